//! The interval detectors of outlier ejection (success rate and failure
//! percentage), as pure functions over one interval's counts.

use crate::health::OutlierConfig;

/// Endpoints (indexes into `counts`, each `(successes, failures)` in the
/// last interval) that the enabled detectors find to be outliers.
pub(crate) fn detect(config: &OutlierConfig, counts: &[(u64, u64)]) -> Vec<usize> {
    let mut out = Vec::new();
    if let Some(sr) = &config.success_rate {
        let judged: Vec<(usize, f64)> = judged(counts, sr.request_volume)
            .map(|(i, s, total)| (i, s as f64 / total as f64))
            .collect();
        if judged.len() >= sr.minimum_hosts.max(1) {
            let n = judged.len() as f64;
            let mean = judged.iter().map(|(_, r)| r).sum::<f64>() / n;
            let var = judged.iter().map(|(_, r)| (r - mean).powi(2)).sum::<f64>() / n;
            let threshold = mean - sr.stdev_factor * var.sqrt();
            out.extend(
                judged
                    .iter()
                    .filter(|(_, r)| *r < threshold)
                    .map(|(i, _)| *i),
            );
        }
    }
    if let Some(fp) = &config.failure_percentage {
        let judged: Vec<(usize, u64, u64)> = judged(counts, fp.request_volume).collect();
        if judged.len() >= fp.minimum_hosts.max(1) {
            for (i, s, total) in judged {
                let failed_percent = (total - s) as f64 * 100.0 / total as f64;
                if failed_percent > fp.threshold && !out.contains(&i) {
                    out.push(i);
                }
            }
        }
    }
    out.sort_unstable();
    out
}

/// Endpoints with at least `volume` requests (and at least one):
/// (index, successes, total).
fn judged(counts: &[(u64, u64)], volume: u64) -> impl Iterator<Item = (usize, u64, u64)> + '_ {
    counts.iter().enumerate().filter_map(move |(i, &(s, f))| {
        let total = s.saturating_add(f);
        (total >= volume.max(1)).then_some((i, s, total))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{FailurePercentageConfig, SuccessRateConfig};

    fn only_success_rate() -> OutlierConfig {
        OutlierConfig {
            success_rate: Some(SuccessRateConfig::default()),
            failure_percentage: None,
            ..OutlierConfig::default()
        }
    }

    #[test]
    fn success_rate_flags_the_low_one() {
        // 19 endpoints at 100 %, one at 70 %: mean 0.985, stdev ~0.065,
        // threshold ~0.86.
        let mut counts = vec![(200, 0); 19];
        counts.push((140, 60));
        assert_eq!(detect(&only_success_rate(), &counts), vec![19]);
    }

    #[test]
    fn success_rate_needs_volume_and_hosts() {
        let mut counts = vec![(50, 0); 19];
        counts.push((35, 15)); // 50 requests: under the volume of 100
        assert!(detect(&only_success_rate(), &counts).is_empty());
        let few = vec![(200, 0), (200, 0), (200, 0), (100, 100)];
        assert!(detect(&only_success_rate(), &few).is_empty(), "4 < 5 hosts");
    }

    #[test]
    fn equal_rates_flag_nobody() {
        let counts = vec![(90, 10); 10];
        assert!(detect(&only_success_rate(), &counts).is_empty());
    }

    #[test]
    fn failure_percentage_uses_a_fixed_threshold() {
        let cfg = OutlierConfig {
            success_rate: None,
            failure_percentage: Some(FailurePercentageConfig::default()),
            ..OutlierConfig::default()
        };
        let counts = vec![(100, 0), (100, 0), (10, 90), (14, 86), (15, 85), (100, 0)];
        assert_eq!(detect(&cfg, &counts), vec![2, 3]);
    }
}

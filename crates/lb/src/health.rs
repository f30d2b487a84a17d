//! Health settings: outlier ejection (Envoy's and gRPC's detectors and
//! defaults), the panic threshold and slow start.

use std::time::Duration;

use crate::error::{Error, check_percent};

/// Outlier detection: which endpoints to take out of rotation, and for
/// how long. The defaults are Envoy's.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlierConfig {
    /// Eject after this many failures in a row (`None`: off). Default 5.
    pub consecutive_failures: Option<u32>,
    /// How often the success-rate and failure-percentage detectors run
    /// (in [`Balancer::maintain`](crate::Balancer::maintain)). Default 10 s.
    pub interval: Duration,
    /// The first ejection's length; the n-th ejection lasts n times this.
    /// Default 30 s.
    pub base_ejection_time: Duration,
    /// The longest ejection (never below `base_ejection_time`). Default
    /// 300 s.
    pub max_ejection_time: Duration,
    /// At most this share of the endpoints is ejected at once, though one
    /// endpoint may always be (0 disables ejection). Default 10 %.
    pub max_ejection_percent: f64,
    /// The success-rate detector (`None`: off). On by default.
    pub success_rate: Option<SuccessRateConfig>,
    /// The failure-percentage detector (`None`: off, the default).
    pub failure_percentage: Option<FailurePercentageConfig>,
}

impl Default for OutlierConfig {
    fn default() -> Self {
        Self {
            consecutive_failures: Some(5),
            interval: Duration::from_secs(10),
            base_ejection_time: Duration::from_secs(30),
            max_ejection_time: Duration::from_secs(300),
            max_ejection_percent: 10.0,
            success_rate: Some(SuccessRateConfig::default()),
            failure_percentage: None,
        }
    }
}

impl OutlierConfig {
    /// No ejection at all.
    #[must_use]
    pub fn disabled() -> Self {
        Self {
            consecutive_failures: None,
            success_rate: None,
            failure_percentage: None,
            ..Self::default()
        }
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidPercentage`] or [`Error::InvalidConfig`].
    pub fn validate(&self) -> Result<(), Error> {
        check_percent("max_ejection_percent", self.max_ejection_percent)?;
        if self.consecutive_failures == Some(0) {
            return Err(Error::InvalidConfig {
                field: "consecutive_failures",
                reason: "must be at least 1 (use None to disable)",
            });
        }
        if self.interval.is_zero() {
            return Err(Error::InvalidConfig {
                field: "interval",
                reason: "must be positive",
            });
        }
        if let Some(sr) = &self.success_rate
            && !(sr.stdev_factor.is_finite() && sr.stdev_factor >= 0.0)
        {
            return Err(Error::InvalidConfig {
                field: "success_rate.stdev_factor",
                reason: "must be finite and not negative",
            });
        }
        if let Some(fp) = &self.failure_percentage {
            check_percent("failure_percentage.threshold", fp.threshold)?;
        }
        Ok(())
    }
}

/// Ejects endpoints whose success rate over an interval falls below
/// `mean - stdev_factor * stdev` of their peers'.
#[derive(Debug, Clone, PartialEq)]
pub struct SuccessRateConfig {
    /// Endpoints with at least `request_volume` requests needed to run.
    /// Default 5.
    pub minimum_hosts: usize,
    /// Requests an endpoint needs in the interval to be judged. Default 100.
    pub request_volume: u64,
    /// Standard deviations below the mean that eject. Default 1.9.
    pub stdev_factor: f64,
}

impl Default for SuccessRateConfig {
    fn default() -> Self {
        Self {
            minimum_hosts: 5,
            request_volume: 100,
            stdev_factor: 1.9,
        }
    }
}

/// Ejects endpoints whose failure percentage over an interval exceeds a
/// fixed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct FailurePercentageConfig {
    /// Failure percentage that ejects. Default 85.
    pub threshold: f64,
    /// Endpoints with at least `request_volume` requests needed to run.
    /// Default 5.
    pub minimum_hosts: usize,
    /// Requests an endpoint needs in the interval to be judged. Default 50.
    pub request_volume: u64,
}

impl Default for FailurePercentageConfig {
    fn default() -> Self {
        Self {
            threshold: 85.0,
            minimum_hosts: 5,
            request_volume: 50,
        }
    }
}

/// Slow start: an endpoint that joins (or returns from ejection) receives
/// a share of its weight that grows over `window`, as
/// `max(min_weight_percent / 100, (elapsed / window) ^ (1 / aggression))`
/// (Envoy's formula).
#[derive(Debug, Clone, PartialEq)]
pub struct SlowStartConfig {
    /// How long the ramp lasts.
    pub window: Duration,
    /// 1.0 ramps linearly; larger values ramp faster at first.
    pub aggression: f64,
    /// The share an endpoint starts with. Default 10 %.
    pub min_weight_percent: f64,
}

impl Default for SlowStartConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(30),
            aggression: 1.0,
            min_weight_percent: 10.0,
        }
    }
}

impl SlowStartConfig {
    /// The share of its weight an endpoint gets `elapsed` into its ramp.
    #[must_use]
    pub fn factor(&self, elapsed: Duration) -> f64 {
        if elapsed >= self.window {
            return 1.0;
        }
        let t = elapsed.as_secs_f64() / self.window.as_secs_f64();
        t.powf(1.0 / self.aggression)
            .max(self.min_weight_percent / 100.0)
    }

    fn validate(&self) -> Result<(), Error> {
        check_percent("slow_start.min_weight_percent", self.min_weight_percent)?;
        if self.window.is_zero() {
            return Err(Error::InvalidConfig {
                field: "slow_start.window",
                reason: "must be positive",
            });
        }
        if !(self.aggression.is_finite() && self.aggression > 0.0) {
            return Err(Error::InvalidConfig {
                field: "slow_start.aggression",
                reason: "must be finite and positive",
            });
        }
        Ok(())
    }
}

/// Everything about endpoint health.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthConfig {
    /// Outlier ejection.
    pub outlier: OutlierConfig,
    /// Below this percentage of endpoints in service, the balancer panics:
    /// it ignores health and spreads over every endpoint. Default 50 (0
    /// disables).
    pub panic_threshold_percent: f64,
    /// Slow start for joining and returning endpoints (`None`: off, the
    /// default).
    pub slow_start: Option<SlowStartConfig>,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            outlier: OutlierConfig::default(),
            panic_threshold_percent: 50.0,
            slow_start: None,
        }
    }
}

impl HealthConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidPercentage`] or [`Error::InvalidConfig`].
    pub fn validate(&self) -> Result<(), Error> {
        self.outlier.validate()?;
        check_percent("panic_threshold_percent", self.panic_threshold_percent)?;
        if let Some(ss) = &self.slow_start {
            ss.validate()?;
        }
        Ok(())
    }
}

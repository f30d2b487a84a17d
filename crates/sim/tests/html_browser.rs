//! The history page in a real browser: Debian's headless chromium must
//! parse it as we wrote it and draw the bars in their colours. Ignored in
//! the README's test run (it needs chromium); `.ci/run` installs chromium
//! and runs it with `--ignored`. Point `SYNOD_CHROMIUM` at another
//! Chromium-family binary to use that one.

use std::path::{Path, PathBuf};
use std::process::Command;

use synod_sim::models::{CasInput, CasRegister, RegisterOutput};
use synod_sim::{ModelOp, ModelVerdict, Outcome, check_model, history_html};

fn browser() -> String {
    std::env::var("SYNOD_CHROMIUM").unwrap_or_else(|_| "chromium".to_string())
}

fn op(
    client: u64,
    input: CasInput,
    invoked: u64,
    done: Option<(u64, RegisterOutput)>,
) -> ModelOp<CasInput, RegisterOutput> {
    ModelOp {
        client,
        input,
        invoked,
        outcome: match done {
            Some((time, output)) => Outcome::Returned { time, output },
            None => Outcome::Unknown {
                gave_up: Some(invoked + 4),
            },
        },
    }
}

/// A register history that goes wrong at time 9: the read of 7 after a
/// failed compare-and-set to 7.
fn page(dir: &Path) -> (PathBuf, usize, usize) {
    use CasInput::{Cas, Read, Write};
    use RegisterOutput::{Cas as CasDone, Ok, Value};
    let h = vec![
        op(0, Write(1), 0, Some((2, Ok))),
        op(1, Read, 1, Some((3, Value(Some(1))))),
        op(2, Write(2), 3, Some((5, Ok))),
        op(0, Write(3), 4, None),
        op(
            1,
            Cas {
                expect: Some(2),
                new: 7,
            },
            6,
            Some((7, CasDone(false))),
        ),
        op(2, Read, 8, Some((9, Value(Some(7))))),
        op(1, Read, 10, Some((12, Value(Some(3))))),
    ];
    let ModelVerdict::NotLinearizable(report) = check_model(&CasRegister, &h, 100_000).unwrap()
    else {
        panic!("the history must fail");
    };
    let unplaced = (report.window.iter())
        .filter(|i| !report.linearized.contains(i))
        .count();
    let html = history_html(
        &CasRegister,
        &h,
        Some(&report),
        "a read of a value never kept",
    );
    let path = dir.join("history.html");
    std::fs::write(&path, html).unwrap();
    (path, report.linearized.len(), unplaced)
}

fn run(args: &[&str]) -> Vec<u8> {
    let out = Command::new(browser())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{} did not start: {e}", browser()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Pixels within 10 of `rgb` on every channel.
fn count(pixels: &[u8], channels: usize, rgb: [u8; 3]) -> usize {
    (pixels.chunks_exact(channels))
        .filter(|p| (0..3).all(|c| p[c].abs_diff(rgb[c]) <= 10))
        .count()
}

#[test]
#[ignore = "needs chromium: .ci/run installs it and runs this test with --ignored"]
fn the_page_parses_and_draws_in_headless_chromium() {
    let dir = std::env::temp_dir().join(format!("synod-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (path, placed, unplaced) = page(&dir);
    assert!(
        placed > 0 && unplaced > 0,
        "{placed} placed, {unplaced} unplaced"
    );
    let url = format!("file://{}", path.display());

    // The browser's own reading of the markup: every bar, in its class.
    let dom = String::from_utf8(run(&["--dump-dom", &url])).unwrap();
    assert!(dom.contains("NOT linearizable"), "{dom}");
    let classes: Vec<Vec<&str>> = (dom.split("<g class=\"").skip(1))
        .map(|rest| rest.split('"').next().unwrap_or("").split(' ').collect())
        .collect();
    assert_eq!(classes.len(), 7, "one bar per operation: {dom}");
    let with = |c: &str| classes.iter().filter(|k| k.contains(&c)).count();
    assert_eq!(with("placed"), placed, "{dom}");
    assert_eq!(with("stuck"), unplaced, "{dom}");
    assert_eq!(with("culprit"), 1, "{dom}");
    assert_eq!(with("unknown"), 1, "{dom}");
    assert_eq!(
        dom.matches("<title>").count(),
        8,
        "the page's and one per bar"
    );

    // What it draws: the placed bars green, the unplaced red, the rest
    // blue-grey, each in at least a bar's worth of pixels.
    let shot = dir.join("history.png");
    run(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1000,400",
        &url,
    ]);
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    let pixels = &pixels[..info.buffer_size()];
    let (green, red, grey) = (
        count(pixels, channels, [0xa8, 0xe0, 0xa8]),
        count(pixels, channels, [0xf4, 0xa6, 0xa6]),
        count(pixels, channels, [0xc9, 0xd3, 0xe0]),
    );
    assert!(
        green > 200 * placed,
        "{green} green pixels for {placed} placed bars"
    );
    assert!(
        red > 200 * unplaced,
        "{red} red pixels for {unplaced} unplaced bars"
    );
    assert!(grey > 200, "{grey} blue-grey pixels");
    std::fs::remove_dir_all(&dir).ok();
}

//! The interop scripts of `tests/interop/js`, run with Node under a time bound.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// How long a script may run before the test fails (the scripts' own waits are shorter).
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(90);

/// `tests/interop/js`, after checking that `package` is installed in its `node_modules`
/// (`scripts/setup-interop.sh` installs them).
pub fn js_dir(package: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/js");
    assert!(
        dir.join("node_modules").join(package).exists(),
        "{package} is not installed: run scripts/setup-interop.sh first"
    );
    dir
}

/// Runs `node tests/interop/js/<script> <args..>` there (socket.io-client must be installed)
/// and asserts that it exits with success within [`SCRIPT_TIMEOUT`]; a failure shows the
/// script's output.
pub async fn run_script(script: &str, args: &[&str]) {
    let dir = js_dir("socket.io-client");
    run_node(&dir, &dir.join(script).display().to_string(), args).await;
}

/// Runs `node <script> <args..>` in `dir` and asserts that it exits with success within
/// [`SCRIPT_TIMEOUT`]; a failure shows the script's output.
pub async fn run_node(dir: &std::path::Path, script: &str, args: &[&str]) {
    let output = tokio::time::timeout(
        SCRIPT_TIMEOUT,
        tokio::process::Command::new("node")
            .arg(script)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("node {script} {args:?} did not finish in {SCRIPT_TIMEOUT:?}"))
    .expect("node runs");
    assert!(
        output.status.success(),
        "node {script} {args:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

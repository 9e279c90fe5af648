//! The interop scripts (`tests/interop/js`, `tests/interop/python`, `tests/browser`), run as a
//! child process under a time bound, their output shown when they fail.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// How long a script may run before the test fails (the scripts' own waits are shorter).
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(90);

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/interop/js`, after checking that `package` is installed in its `node_modules`
/// (`scripts/setup-interop.sh` installs them).
pub fn js_dir(package: &str) -> PathBuf {
    let dir = root().join("tests/interop/js");
    assert!(
        dir.join("node_modules").join(package).exists(),
        "{package} is not installed: run scripts/setup-interop.sh first"
    );
    dir
}

/// Runs `node tests/interop/js/<script> <args..>` there (socket.io-client must be installed)
/// and asserts that it exits with success within [`SCRIPT_TIMEOUT`].
pub async fn run_js(script: &str, args: &[&str]) {
    let dir = js_dir("socket.io-client");
    let script = dir.join(script).display().to_string();
    let mut all = vec![script.as_str()];
    all.extend_from_slice(args);
    run(Path::new("node"), &all, &dir).await;
}

/// Runs `program <args..>` in `dir` and asserts that it exits with success within
/// [`SCRIPT_TIMEOUT`]; a failure or a timeout shows the command, and a failure its output.
pub async fn run(program: &Path, args: &[&str], dir: &Path) {
    let output = tokio::time::timeout(
        SCRIPT_TIMEOUT,
        tokio::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{program:?} {args:?} did not finish in {SCRIPT_TIMEOUT:?}"))
    .unwrap_or_else(|e| panic!("{program:?} does not run: {e}"));
    assert!(
        output.status.success(),
        "{program:?} {args:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

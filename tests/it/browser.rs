//! A headless Chromium driven over WebDriver (chromedriver's HTTP API, spoken with
//! reqwest), for the dashboard tests. Both run on this machine and talk to 127.0.0.1 only.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). The binaries
//! can be overridden with `PEERSCOPE_CHROMIUM` and `PEERSCOPE_CHROMEDRIVER`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::within;

/// Chromium's flags: headless, no sandbox (CI runs as root), nothing that reaches out
/// to the network on its own, a fresh profile.
fn chromium_args(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1800",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

fn find(env: &str, candidates: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "{} not found: install Debian's chromium and chromium-driver (apt-get install \
                 chromium chromium-driver), or set {env}",
                candidates[0]
            )
        })
}

/// A chromedriver process with one browser session.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a session.
    pub async fn start() -> Browser {
        let driver_bin = find(
            "PEERSCOPE_CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        );
        let chromium = find(
            "PEERSCOPE_CHROMIUM",
            &["/usr/lib/chromium/chromium", "/usr/bin/chromium"],
        );
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let driver = tokio::process::Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        within(Duration::from_secs(30), async {
            loop {
                if let Ok(r) = http.get(format!("{base}/status")).send().await {
                    if let Ok(v) = r.json::<Value>().await {
                        if v["value"]["ready"] == true {
                            return;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": chromium_args(profile.path()),
            }
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Browser {
            http,
            base,
            session,
            _driver: driver,
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r: Value = req.send().await.expect(path).json().await.unwrap();
        if r["value"].get("error").is_some() {
            panic!("WebDriver {path}: {}", r["value"]);
        }
        r["value"].clone()
    }

    /// Loads `url` and waits for its load event.
    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// Runs `script` (a function body; `return` gives the value, a returned promise is
    /// awaited) in the page.
    pub async fn eval(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Evaluates `script` every 200 ms until it returns something other than `null` or
    /// `false`; fails after `limit`.
    pub async fn wait_for(&self, what: &str, limit: Duration, script: &str) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let v = self.eval(script).await;
            if !(v.is_null() || v == Value::Bool(false)) {
                return v;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after {limit:?} waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Saves a PNG of the window to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = data_encoding::BASE64
            .decode(v.as_str().unwrap().as_bytes())
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Ends the session (the browser exits; chromedriver is killed on drop).
    pub async fn close(self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.http.delete(url).send().await;
    }
}

/// Where screenshots go: `target/dashboard-screenshots/` (CI keeps it as an artifact).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("dashboard-screenshots")
}

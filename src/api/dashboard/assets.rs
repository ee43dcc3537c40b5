//! The dashboard's static files, embedded in the binary: the page, its script and style,
//! and the vendored uPlot build (see `assets/vendor/README.md` for its pin).

/// One embedded file.
pub struct Asset {
    /// Path under `/assets/` (the page itself is served at `/`).
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// The page served at `/`.
pub const INDEX_HTML: &str = include_str!("assets/index.html");

/// Every file under `/assets/`.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "dashboard.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/dashboard.js"),
    },
    Asset {
        name: "dashboard.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/dashboard.css"),
    },
    Asset {
        name: "uPlot.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/vendor/uPlot.iife.min.js"),
    },
    Asset {
        name: "uPlot.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/vendor/uPlot.min.css"),
    },
    Asset {
        name: "uPlot.LICENSE",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("assets/vendor/uPlot.LICENSE"),
    },
];

/// The asset named `name`, if any.
pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The vendored files are the published ones: their hashes match the table in
    /// `assets/vendor/README.md`.
    #[test]
    fn vendored_assets_match_their_pins() {
        let readme = include_str!("assets/vendor/README.md");
        for name in ["uPlot.iife.min.js", "uPlot.min.css"] {
            let asset = find(name).expect(name);
            let hash = hex::encode(Sha256::digest(asset.body));
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{name}`")))
                .unwrap_or_else(|| panic!("{name} has no row in the vendor README"));
            assert!(row.contains(&hash), "{name}: {hash} is not pinned in {row}");
        }
        // The page loads exactly the assets that exist.
        for src in INDEX_HTML.split("/assets/").skip(1) {
            let name = src.split('"').next().unwrap();
            assert!(find(name).is_some(), "index.html refers to missing {name}");
        }
    }
}

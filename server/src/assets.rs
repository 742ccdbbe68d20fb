//! The web assets (script, WASM, stylesheet, robots.txt) embedded in the binary by
//! `build.rs`: served from memory with ETags, brotli/gzip and long caching for hashed names.

use app::SiteAssets;
use axum::Router;
use memory_serve::{load, CacheControl};

/// The assets' router, and the names of the script, WASM and stylesheet the shell links to.
pub fn load_assets<S: Clone + Send + Sync + 'static>() -> (Router<S>, SiteAssets) {
    let serve = load!()
        // The portal renders `/`; assets never answer it.
        .index_file(None)
        // Release file names carry a content hash (cargo-leptos `hash-files`): cache forever.
        .cache_control(if cfg!(debug_assertions) {
            CacheControl::Short
        } else {
            CacheControl::Long
        })
        .enable_gzip(true)
        .enable_brotli(true);
    let manifest = serve.manifest();
    let routes: Vec<&str> = manifest.iter().map(|(route, _)| route).collect();
    let site = SiteAssets {
        js: find(&routes, ".js").unwrap_or_else(|| "airdesk.js".into()),
        wasm: find(&routes, ".wasm").unwrap_or_else(|| "airdesk_bg.wasm".into()),
        css: find(&routes, ".css").unwrap_or_else(|| "airdesk.css".into()),
    };
    (serve.into_router(), site)
}

/// The file under `/pkg/` named `airdesk…<suffix>`.
fn find(routes: &[&str], suffix: &str) -> Option<String> {
    routes
        .iter()
        .filter_map(|r| r.strip_prefix("/pkg/"))
        .find(|name| name.starts_with("airdesk") && name.ends_with(suffix))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn hashed_names_are_found_by_suffix() {
        let routes = [
            "/robots.txt",
            "/pkg/airdesk.Ab1.js",
            "/pkg/airdesk.Cd2.wasm",
            "/pkg/airdesk.Ef3.css",
        ];
        assert_eq!(find(&routes, ".js").as_deref(), Some("airdesk.Ab1.js"));
        assert_eq!(find(&routes, ".wasm").as_deref(), Some("airdesk.Cd2.wasm"));
        assert_eq!(find(&routes, ".map"), None);
    }
}

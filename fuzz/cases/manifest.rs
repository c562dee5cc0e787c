//! Manifest parsing never panics, whatever the text: it gives a pipeline or
//! an error naming the manifest.

/// One input: the whole check.
pub fn run(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Err(e) = nodehost::manifest::parse(text, std::path::Path::new("/fuzz/pipeline.toml"))
    {
        assert!(e.to_string().starts_with("/fuzz/pipeline.toml: "), "{e}");
    }
}

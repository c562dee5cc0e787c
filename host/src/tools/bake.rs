//! `nodehost bake`: the Python component snapshotted with a node module
//! already loaded, so creating its nodes skips loading the source too.

use std::path::Path;

use crate::error::Error;
use crate::node::on_node_thread;
use crate::sandbox::{WasmEngine, snapshot_python};

/// Bake `file` (a Python node module) into a pre-initialized component at
/// `output`, and compile that into `engine`'s cache so the first run that
/// uses it starts at once. Returns the component's size in bytes.
///
/// # Errors
/// When the file cannot be read or written, or the module fails to load
/// (with its Python traceback).
pub fn bake(engine: &WasmEngine, file: &Path, output: &Path) -> Result<usize, Error> {
    let source = std::fs::read_to_string(file).map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
    let name = file.display().to_string();
    let baked = on_node_thread(|| snapshot_python(nodehost_artifacts::PYTHON.bytes, Some((&name, &source))))?;
    std::fs::write(output, &baked).map_err(|e| Error::io(format!("writing {}", output.display()), e))?;
    engine.load_file(output, engine.default_kind())?;
    Ok(baked.len())
}

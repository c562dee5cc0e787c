//! `wasi:filesystem` calls that can make a directory take more space,
//! charged against the node's `/tmp` bound before they run (see
//! [`crate::sandbox::scratch`]): writes, write and append streams (whose
//! every write is charged as it happens), resizes, and new files,
//! directories and links. The calls themselves are wasmtime-wasi's; only
//! descriptors inside the node's `/tmp` are charged (granted directories are
//! the operator's, and not bounded). Each shadow also keeps the record of
//! which descriptors are inside `/tmp` up to date, at the two places a
//! descriptor is made: the preopens and `open-at`.

use std::sync::Arc;

use bytes::Bytes;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemCtxView};
use wasmtime_wasi::p2::bindings::sync::filesystem::{preopens, types as fs};
use wasmtime_wasi::p2::{DynOutputStream, FsResult, OutputStream, Pollable, StreamError, StreamResult};

use crate::sandbox::scratch::{BLOCK, GUEST_PATH, Quota, Scratch};
use crate::sandbox::store::HostState;

/// A file's output stream inside `/tmp`: each write is charged first.
struct ChargedStream {
    inner: DynOutputStream,
    quota: Arc<Quota>,
}

impl ChargedStream {
    fn charge(&self, bytes: usize) -> StreamResult<()> {
        self.quota.charge(bytes as u64).map_err(|full| StreamError::Trap(wasmtime::Error::new(full)))
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for ChargedStream {
    async fn ready(&mut self) {
        self.inner.ready().await;
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for ChargedStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.charge(bytes.len())?;
        self.inner.write(bytes)
    }
    fn flush(&mut self) -> StreamResult<()> {
        self.inner.flush()
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        self.inner.check_write()
    }
    async fn blocking_write_and_flush(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.charge(bytes.len())?;
        self.inner.blocking_write_and_flush(bytes).await
    }
    fn write_zeroes(&mut self, nelem: usize) -> StreamResult<()> {
        self.charge(nelem)?;
        self.inner.write_zeroes(nelem)
    }
    async fn write_ready(&mut self) -> StreamResult<usize> {
        self.inner.write_ready().await
    }
    async fn cancel(&mut self) {
        self.inner.cancel().await;
    }
}

/// The filesystem view of a store, and its scratch directory beside it.
fn split<'a>(store: &'a mut Cx<'_>) -> (WasiFilesystemCtxView<'a>, Option<&'a mut Scratch>) {
    let HostState { wasi, table, scratch, .. } = store.data_mut();
    (WasiFilesystemCtxView { ctx: wasi.filesystem(), table }, scratch.as_mut())
}

/// `fd`'s scratch directory, when `fd` is inside it.
fn inside<'a>(scratch: Option<&'a mut Scratch>, fd: &Fd) -> Option<&'a mut Scratch> {
    scratch.filter(|s| s.contains(fd.rep()))
}

/// A node's store, as a host function gets it.
type Cx<'a> = StoreContextMut<'a, HostState>;

/// A descriptor handle.
type Fd = Resource<Descriptor>;

/// An output stream handle.
type Stream = Resource<DynOutputStream>;

/// The preopened directories and where the guest sees them.
type Preopens = Vec<(Fd, String)>;

/// A call's result as the guest gets it: its value or its error code (an
/// error that is not one traps).
type Ret<T> = wasmtime::Result<(Result<T, fs::ErrorCode>,)>;

fn ret<T>(view: &mut WasiFilesystemCtxView<'_>, result: FsResult<T>) -> Ret<T> {
    match result {
        Ok(v) => Ok((Ok(v),)),
        Err(e) => Ok((Err(fs::Host::convert_error_code(view, e)?),)),
    }
}

/// The length of file `fd` (0 for a directory or what cannot be read:
/// the call itself then fails).
fn length(view: &WasiFilesystemCtxView<'_>, fd: &Fd) -> u64 {
    match view.table.get(fd) {
        Ok(Descriptor::File(f)) => f.file.metadata().map_or(0, |m| m.len()),
        _ => 0,
    }
}

/// Wrap the new stream `stream` so that its writes are charged.
fn charged(view: &mut WasiFilesystemCtxView<'_>, stream: Stream, quota: &Arc<Quota>) -> wasmtime::Result<Stream> {
    let inner = view.table.delete(stream)?;
    let wrapped: DynOutputStream = Box::new(ChargedStream { inner, quota: Arc::clone(quota) });
    Ok(view.table.push(wrapped)?)
}

/// Replace WASI's filesystem calls that take space with charged ones, and
/// the ones that make descriptors with ones that record which are in `/tmp`.
pub(crate) fn shadow_filesystem(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut pre = linker.instance("wasi:filesystem/preopens@0.2.12")?;
    pre.func_wrap("get-directories", |mut store: Cx<'_>, (): ()| -> wasmtime::Result<(Preopens,)> {
        let (mut view, scratch) = split(&mut store);
        let dirs = preopens::Host::get_directories(&mut view)?;
        if let Some(scratch) = scratch {
            for (fd, path) in &dirs {
                scratch.set_member(fd.rep(), path == GUEST_PATH);
            }
        }
        Ok((dirs,))
    })?;

    let mut types = linker.instance("wasi:filesystem/types@0.2.12")?;
    types.func_wrap(
        "[method]descriptor.open-at",
        |mut store: Cx<'_>,
         (fd, path_flags, path, oflags, flags): (Fd, fs::PathFlags, String, fs::OpenFlags, fs::DescriptorFlags)|
         -> Ret<Fd> {
            let (mut view, scratch) = split(&mut store);
            // Whether the new descriptor will be inside /tmp (None: no /tmp).
            let in_tmp = match scratch {
                Some(s) => {
                    let inside = s.contains(fd.rep());
                    if inside && oflags.contains(fs::OpenFlags::CREATE) {
                        s.charge(BLOCK)?;
                    }
                    Some(inside)
                }
                None => None,
            };
            let opened = fs::HostDescriptor::open_at(&mut view, fd, path_flags, path, oflags, flags);
            let (mut view, scratch) = split(&mut store);
            if let (Ok(new), Some(s), Some(inside)) = (&opened, scratch, in_tmp) {
                s.set_member(new.rep(), inside);
            }
            ret(&mut view, opened)
        },
    )?;
    types.func_wrap(
        "[method]descriptor.write",
        |mut store: Cx<'_>, (fd, buf, offset): (Fd, Vec<u8>, u64)| -> Ret<u64> {
            let (mut view, scratch) = split(&mut store);
            if let Some(s) = inside(scratch, &fd) {
                let gap = offset.saturating_sub(length(&view, &fd));
                s.charge((buf.len() as u64).saturating_add(gap).saturating_add(BLOCK))?;
            }
            let written = fs::HostDescriptor::write(&mut view, fd, buf, offset);
            ret(&mut view, written)
        },
    )?;
    types.func_wrap(
        "[method]descriptor.write-via-stream",
        |mut store: Cx<'_>, (fd, offset): (Fd, u64)| -> Ret<Stream> {
            let (mut view, scratch) = split(&mut store);
            let quota = match inside(scratch, &fd) {
                Some(s) => {
                    s.charge(offset.saturating_sub(length(&view, &fd)).saturating_add(BLOCK))?;
                    Some(Arc::clone(s.quota()))
                }
                None => None,
            };
            let stream = fs::HostDescriptor::write_via_stream(&mut view, fd, offset);
            let stream = match (stream, quota) {
                (Ok(stream), Some(quota)) => Ok(charged(&mut view, stream, &quota)?),
                (other, _) => other,
            };
            ret(&mut view, stream)
        },
    )?;
    types.func_wrap(
        "[method]descriptor.append-via-stream",
        |mut store: Cx<'_>, (fd,): (Fd,)| -> Ret<Stream> {
            let (mut view, scratch) = split(&mut store);
            let quota = match inside(scratch, &fd) {
                Some(s) => {
                    s.charge(BLOCK)?;
                    Some(Arc::clone(s.quota()))
                }
                None => None,
            };
            let stream = fs::HostDescriptor::append_via_stream(&mut view, fd);
            let stream = match (stream, quota) {
                (Ok(stream), Some(quota)) => Ok(charged(&mut view, stream, &quota)?),
                (other, _) => other,
            };
            ret(&mut view, stream)
        },
    )?;
    types.func_wrap(
        "[method]descriptor.set-size",
        |mut store: Cx<'_>, (fd, size): (Fd, u64)| -> Ret<()> {
            let (mut view, scratch) = split(&mut store);
            if let Some(s) = inside(scratch, &fd) {
                s.charge(size.saturating_sub(length(&view, &fd)).saturating_add(BLOCK))?;
            }
            let done = fs::HostDescriptor::set_size(&mut view, fd, size);
            ret(&mut view, done)
        },
    )?;
    types.func_wrap(
        "[method]descriptor.create-directory-at",
        |mut store: Cx<'_>, (fd, path): (Fd, String)| -> Ret<()> {
            let (mut view, scratch) = split(&mut store);
            if let Some(s) = inside(scratch, &fd) {
                s.charge(BLOCK)?;
            }
            let done = fs::HostDescriptor::create_directory_at(&mut view, fd, path);
            ret(&mut view, done)
        },
    )?;
    types.func_wrap(
        "[method]descriptor.symlink-at",
        |mut store: Cx<'_>, (fd, old, new): (Fd, String, String)| -> Ret<()> {
            let (mut view, scratch) = split(&mut store);
            if let Some(s) = inside(scratch, &fd) {
                s.charge(BLOCK)?;
            }
            let done = fs::HostDescriptor::symlink_at(&mut view, fd, old, new);
            ret(&mut view, done)
        },
    )?;
    types.func_wrap(
        "[method]descriptor.link-at",
        |mut store: Cx<'_>, (fd, old_flags, old, new_fd, new): (Fd, fs::PathFlags, String, Fd, String)| -> Ret<()> {
            let (mut view, scratch) = split(&mut store);
            if let Some(s) = inside(scratch, &new_fd) {
                // A second name: the file counts again under it.
                let from = Resource::new_borrow(fd.rep());
                let size = fs::HostDescriptor::stat_at(&mut view, from, old_flags, old.clone()).map_or(0, |st| st.size);
                s.charge(size.div_ceil(BLOCK).saturating_add(1).saturating_mul(BLOCK))?;
            }
            let done = fs::HostDescriptor::link_at(&mut view, fd, old_flags, old, new_fd, new);
            ret(&mut view, done)
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

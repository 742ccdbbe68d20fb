//! File operations that never lose mail: atomic moves that refuse to replace anything, and
//! writes that readers see whole or not at all.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Makes a Maildir folder (`cur/`, `new/`, `tmp/`) if it is not there.
pub fn ensure_folder(dir: &Path) -> io::Result<()> {
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(dir.join(sub))?;
    }
    Ok(())
}

/// Moves a message file into the same subfolder (`cur` or `new`) of `target`, under the same
/// name (flags included), with one atomic rename that refuses to replace anything: of two
/// processes moving the same file, one wins and the other finds it gone. On file systems
/// without that rename, a link then an unlink: a crash in between leaves the message in both
/// places, which a repeat completes.
pub fn move_file(source: &Path, target: &Path) -> io::Result<()> {
    let sub = source
        .parent()
        .and_then(Path::file_name)
        .filter(|s| *s == "new")
        .map_or("cur", |_| "new");
    let name = source
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let destination = target.join(sub).join(name);
    if source == destination {
        return Ok(());
    }
    let placed = match rename_no_replace(source, &destination) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            fs::hard_link(source, &destination).map(|()| false)
        }
        other => other.map(|()| true),
    };
    match placed {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // Done before a crash, or another file of the same name: only the first is ours.
            let (a, b) = (fs::metadata(source)?, fs::metadata(&destination)?);
            if (a.dev(), a.ino()) != (b.dev(), b.ino()) {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "another message of that name is already there",
                ));
            }
        }
        Err(e) => return Err(e),
    }
    fs::remove_file(source)
}

/// `renameat2(…, RENAME_NOREPLACE)`: atomic, and fails with AlreadyExists instead of replacing.
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))
    };
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Writes a file through a temporary name and a rename: readers see the old or the new text,
/// never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no parent folder"))?;
    fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(
        ".{}.airdesk-tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    {
        use std::io::Write;
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&temporary, path)
}

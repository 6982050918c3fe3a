//! Writing output files safely: every file scratchnet writes (models, training logs, pictures,
//! downloads) goes through [`OutputFile`], so that no run destroys what it should not.
//!
//! Book chapter: "Model files" (section "Saving safely"). The rules:
//!
//! 1. **Only regular files are written.** A path that names anything else — a symbolic link, a
//!    FIFO, a socket, a device, a folder — is refused, and so is a path whose folder does not
//!    exist or cannot be written in. [`check_output`] says so before any work starts; the same
//!    check runs again right before the rename, with [`fs::symlink_metadata`], so a link put
//!    there in the meantime is not replaced either.
//! 2. **Whole or not at all.** The bytes go to a temporary file beside the target, created new
//!    (never through an existing file or link), flushed to disk, and only then renamed over the
//!    target: a reader sees the old file or the new one, never half of one. A replaced
//!    file's permissions carry over to the new one.
//! 3. **Temporary files are recognisably ours** — `.NAME.scratchnet-tmp-PID` beside `NAME` —
//!    and are removed on every error path, and whenever an [`OutputFile`] is dropped without
//!    [`OutputFile::commit`].
//! 4. **A killed run's leftovers go at the next write to the same path:** creating an
//!    [`OutputFile`] for `NAME` removes the regular files named exactly
//!    `.NAME.scratchnet-tmp-PID` whose process is gone (no `/proc/PID`) or is this one (a
//!    process writes one path at a time). Where there is no `/proc` (not Linux), nothing is
//!    removed: a leftover is safer than deleting a live run's file.
//!
//! [`same_file`] tells two output paths apart, so a caller can refuse writing two outputs to
//! one file. Left out: locking (two processes writing the same path at once: the last rename
//! wins, and neither file is ever half-written), and Windows' rename rules.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// What a temporary file's name holds between the target's name and the process id.
pub const TEMP_MARKER: &str = ".scratchnet-tmp-";

/// A file being written: bytes go to a temporary file beside the target, and
/// [`OutputFile::commit`] puts it in place. Dropped without a commit, the temporary file is
/// removed and the target was never touched.
#[derive(Debug)]
pub struct OutputFile {
    target: PathBuf,
    temp: PathBuf,
    file: Option<File>,
}

impl OutputFile {
    /// Starts writing `target`: checks it ([`check_output`]'s rules), removes leftovers of
    /// killed runs, and creates the temporary file.
    ///
    /// # Errors
    /// [`Error::Io`] naming `target` when it is not a regular file, its folder is missing or
    /// not a folder, or the temporary file cannot be created there.
    pub fn create(target: &Path) -> Result<OutputFile> {
        let folder = folder_of(target);
        check_folder(target, folder)?;
        check_kind(target)?;
        remove_leftovers(target);
        let temp = temporary_path(target);
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| {
                let reason = format!(
                    "cannot create a file in the folder {}: {e}",
                    folder.display()
                );
                Error::io(target, io::Error::new(e.kind(), reason))
            })?;
        Ok(OutputFile {
            target: target.to_path_buf(),
            temp,
            file: Some(file),
        })
    }

    /// The file this will become.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the bytes to disk, checks once more that the target is a regular file or
    /// absent, and renames the temporary file over it.
    ///
    /// # Errors
    /// [`Error::Io`] if the disk is full, the target has become something other than a
    /// regular file, or the rename fails; the temporary file is removed and the target is
    /// as it was.
    pub fn commit(mut self) -> Result<()> {
        let file = self.file.take().expect("a file until committed");
        file.sync_all().map_err(|e| Error::io(&self.target, e))?;
        drop(file);
        check_kind(&self.target)?;
        if let Ok(old) = fs::symlink_metadata(&self.target) {
            // Best effort: the new file is usable with the default permissions too.
            let _ = fs::set_permissions(&self.temp, old.permissions());
        }
        fs::rename(&self.temp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        sync_folder(folder_of(&self.target));
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file
            .as_mut()
            .expect("a file until committed")
            .write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("a file until committed").flush()
    }
}

impl Drop for OutputFile {
    /// Removes the temporary file unless [`OutputFile::commit`] renamed it.
    fn drop(&mut self) {
        self.file = None;
        if fs::symlink_metadata(&self.temp).is_ok_and(|m| m.is_file()) {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Writes `bytes` to `path` as a whole ([`OutputFile`]): `path` ends up holding exactly
/// `bytes`, or is as it was.
///
/// # Errors
/// Everything [`OutputFile::create`] and [`OutputFile::commit`] refuse, and write errors.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut out = OutputFile::create(path)?;
    out.write_all(bytes).map_err(|e| Error::io(path, e))?;
    out.commit()
}

/// Fails now, before hours of work, if `path` could not be written at the end: it names
/// something other than a regular file, its folder is missing, or nothing can be created in
/// that folder (tried by creating and removing a temporary file). Removes leftovers of killed
/// runs, as [`OutputFile::create`] does.
///
/// # Errors
/// As [`OutputFile::create`].
pub fn check_output(path: &Path) -> Result<()> {
    OutputFile::create(path).map(drop)
}

/// True when `a` and `b` name the same file: the same existing file (through a hard link or
/// a linked folder, too), or the same name in the same folder once links are resolved.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (fs::metadata(a), fs::metadata(b)) {
            if (x.dev(), x.ino()) == (y.dev(), y.ino()) {
                return true;
            }
        }
    }
    resolved(a) == resolved(b)
}

/// `path` with its folder's links resolved, when the folder exists.
fn resolved(path: &Path) -> PathBuf {
    let folder = folder_of(path);
    let folder = fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
    folder.join(path.file_name().unwrap_or_default())
}

/// The folder `path` is in: `.` for a bare file name.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `DIR/NAME` → `DIR/.NAME.scratchnet-tmp-PID`: hidden, ours by name, one per process, and in
/// the same folder so the rename cannot cross file systems.
fn temporary_path(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    target.with_file_name(format!(".{name}{TEMP_MARKER}{}", std::process::id()))
}

/// An [`Error::Io`] about `path` with `reason` as the operating system's part.
fn refuse(path: &Path, kind: io::ErrorKind, reason: String) -> Error {
    Error::io(path, io::Error::new(kind, reason))
}

/// Refuses a target that exists and is not a regular file, or that names no file at all.
fn check_kind(path: &Path) -> Result<()> {
    if path.file_name().is_none() {
        let reason = "names a folder, not a file".to_string();
        return Err(refuse(path, io::ErrorKind::InvalidInput, reason));
    }
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) => {
            let reason = format!(
                "is {}, not a regular file; scratchnet writes only regular files, so name a \
                 new file or an existing regular one",
                kind_of(&m.file_type())
            );
            Err(refuse(path, io::ErrorKind::InvalidInput, reason))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Refuses a target whose folder is missing or is not a folder.
fn check_folder(target: &Path, folder: &Path) -> Result<()> {
    match fs::metadata(folder) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => {
            let reason = format!("{} is not a folder", folder.display());
            Err(refuse(target, io::ErrorKind::InvalidInput, reason))
        }
        Err(e) => {
            let reason = format!("the folder {} does not exist ({e})", folder.display());
            Err(refuse(target, e.kind(), reason))
        }
    }
}

/// "a FIFO (named pipe)", "a symbolic link", …: what stands at a path instead of a file.
fn kind_of(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        } else if t.is_socket() {
            return "a socket";
        } else if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else {
        "something other than a file"
    }
}

/// Removes `target`'s temporary files left by runs that were killed (module doc, rule 4).
fn remove_leftovers(target: &Path) {
    let Some(name) = target.file_name() else {
        return;
    };
    let prefix = format!(".{}{TEMP_MARKER}", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(folder_of(target)) else {
        return;
    };
    for entry in entries.flatten() {
        let entry_name = entry.file_name();
        let pid = entry_name.to_str().and_then(|n| n.strip_prefix(&prefix));
        let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if regular && !another_live_process(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// True unless `pid` is this process or certainly no running process. Without `/proc`, every
/// other process counts as alive.
fn another_live_process(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

/// Flushes the folder's entry for a renamed file to disk, where the system allows it.
fn sync_folder(folder: &Path) {
    if let Ok(dir) = File::open(folder) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh empty folder for one test.
    fn folder(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("scratchnet-output-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_whole_file_replaces_the_old_one_and_nothing_else_remains() {
        let dir = folder("whole");
        let path = dir.join("m.bin");
        write_file(&path, b"first").unwrap();
        write_file(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(names_in(&dir), ["m.bin"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_uncommitted_file_leaves_the_target_and_no_temporary_file() {
        let dir = folder("uncommitted");
        let path = dir.join("log.csv");
        fs::write(&path, "precious").unwrap();
        let mut out = OutputFile::create(&path).unwrap();
        out.write_all(b"half a log").unwrap();
        assert_eq!(names_in(&dir).len(), 2, "the temporary file is beside it");
        drop(out);
        assert_eq!(fs::read_to_string(&path).unwrap(), "precious");
        assert_eq!(names_in(&dir), ["log.csv"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn links_sockets_and_folders_are_refused_and_left_as_they_were() {
        use std::os::unix::net::UnixListener;
        let dir = folder("not-files");
        let file = dir.join("file");
        fs::write(&file, "keep").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let socket = dir.join("socket");
        let _listener = UnixListener::bind(&socket).unwrap();
        let sub = dir.join("sub");
        fs::create_dir(&sub).unwrap();
        for (path, kind) in [
            (&link, "a symbolic link"),
            (&socket, "a socket"),
            (&sub, "a folder"),
        ] {
            let err = write_file(path, b"x").unwrap_err().to_string();
            assert!(
                err.contains(&format!("is {kind}, not a regular file")),
                "{err}"
            );
        }
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&file).unwrap(), "keep");
        assert!(sub.is_dir());
        assert_eq!(names_in(&dir), ["file", "link", "socket", "sub"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_target_is_checked_again_right_before_the_rename() {
        let dir = folder("recheck");
        let path = dir.join("m.bin");
        let mut out = OutputFile::create(&path).unwrap();
        out.write_all(b"model").unwrap();
        fs::create_dir(&path).unwrap(); // something else appears while the file is written
        let err = out.commit().unwrap_err().to_string();
        assert!(err.contains("is a folder"), "{err}");
        assert!(path.is_dir());
        assert_eq!(names_in(&dir), ["m.bin"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_folders_and_files_for_folders_are_refused() {
        let dir = folder("folders");
        let err = check_output(&dir.join("nowhere/m.bin")).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        fs::write(dir.join("plain"), "").unwrap();
        let err = check_output(&dir.join("plain/m.bin")).unwrap_err();
        assert!(err.to_string().contains("is not a folder"), "{err}");
        let err = check_output(Path::new("")).unwrap_err();
        assert!(err.to_string().contains("names a folder"), "{err}");
        check_output(&dir.join("m.bin")).unwrap();
        assert_eq!(names_in(&dir), ["plain"], "the check leaves nothing behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A folder without write permission; a privileged user writes anywhere but in `/sys`.
    #[cfg(unix)]
    #[test]
    fn a_folder_that_cannot_be_written_in_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = folder("read-only");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
        let privileged = OutputFile::create(&dir.join("probe")).is_ok();
        let target = match privileged {
            false => dir.join("m.bin"),
            true => PathBuf::from("/sys/scratchnet-test-model.bin"),
        };
        if privileged && !Path::new("/sys").is_dir() {
            return; // nowhere to try
        }
        let err = check_output(&target).unwrap_err().to_string();
        assert!(err.contains("cannot create a file in the folder"), "{err}");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn leftovers_of_dead_runs_go_and_nothing_else_does() {
        let dir = folder("leftovers");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let ours = |pid: u32| format!(".m.bin{TEMP_MARKER}{pid}");
        let keep = [
            ours(1),                               // pid 1 is alive
            format!(".m.bin{TEMP_MARKER}{dead}x"), // not exactly our pattern
            format!(".n.bin{TEMP_MARKER}{dead}"),  // another target's
            "m.bin.tmp".to_string(),
        ];
        for name in keep.iter().chain([&ours(dead), &ours(std::process::id())]) {
            fs::write(dir.join(name), "left over").unwrap();
        }
        fs::create_dir(dir.join(ours(dead + 1))).unwrap(); // not a regular file
        write_file(&dir.join("m.bin"), b"model").unwrap();
        let mut expected: Vec<String> = keep.to_vec();
        expected.extend(["m.bin".to_string(), ours(dead + 1)]);
        expected.sort();
        assert_eq!(names_in(&dir), expected);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_same_file_under_two_names_is_the_same_file() {
        let dir = folder("same");
        let (a, b) = (dir.join("a.bin"), dir.join("b.bin"));
        assert!(same_file(&a, &dir.join(".").join("a.bin")));
        assert!(!same_file(&a, &b));
        fs::write(&a, "x").unwrap();
        fs::hard_link(&a, &b).unwrap();
        assert!(same_file(&a, &b), "a hard link");
        let linked = dir.join("linked");
        std::os::unix::fs::symlink(&dir, &linked).unwrap();
        assert!(same_file(&dir.join("new.csv"), &linked.join("new.csv")));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = folder("permissions");
        let path = dir.join("m.bin");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        write_file(&path, b"new").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        fs::remove_dir_all(&dir).unwrap();
    }
}

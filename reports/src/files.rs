//! Report files written whole or not at all.

use std::io;
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` through a temporary file in the same folder,
/// renamed over `path` once complete: a reader (a browser refreshing the
/// page, CI picking up `report.json`) sees the old file or the new one,
/// never half of one, even if the run is killed while writing. A rename
/// within one folder is atomic on POSIX file systems. Creates parent
/// folders. The temporary file is made with `std::fs::write`, so the
/// report gets the usual permissions (a temporary-file crate would make it
/// readable by its owner only).
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = temporary_beside(path);
    let written = std::fs::write(&tmp, contents).and_then(|_| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `.<name>.tmp-<pid>` in `path`'s folder: hidden, and unique per process
/// so that two runs writing one folder do not share a temporary file.
fn temporary_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_written_atomically_replaces_the_old_one_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("mqsim-atomic-{}", std::process::id()));
        let path = dir.join("sub").join("report.json");
        write_atomically(&path, b"old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["report.json"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

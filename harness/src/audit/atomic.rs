//! Writing an output file so that a reader (a CI step, a browser) sees the
//! old file or the new one, never half of one: write beside it, then
//! rename over it.

use std::io;
use std::path::Path;

/// Writes `contents` to `path` through a temporary file in the same folder,
/// creating the folder first.
pub fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        std::fs::create_dir_all(parent)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temp, contents)?;
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_file_is_left() {
        let dir = std::env::temp_dir().join(format!("mqsim-atomic-{}", std::process::id()));
        let file = dir.join("sub").join("out.json");
        super::write(&file, b"one").unwrap();
        super::write(&file, b"two").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.json"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

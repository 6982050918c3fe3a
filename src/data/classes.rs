//! The names of a data set's classes: MNIST's digits 0–9, or the names in a `classes.txt`
//! beside the data, one per line, so that output about a data set that is not digits does
//! not call its classes digits.
//!
//! Book chapter: "Reading MNIST". Label k (a byte 0–9 in the IDX label file) is class k; its
//! name is line k + 1 of `classes.txt`, e.g. for Fashion-MNIST `T-shirt/top`, `Trouser`, ….
//! Without the file the classes are the digits, named `0` … `9`. The file is read through
//! [`read_limited`] and checked: at most [`MAX_CLASSES`] names of at most [`MAX_NAME_BYTES`]
//! bytes each, no empty, repeated or control-character names. Left out: translations and
//! longer descriptions.

use std::path::Path;

use crate::formats::read::read_limited;
use crate::{Error, Result};

/// The file, in the data folder, that names the classes.
pub const CLASSES_FILE: &str = "classes.txt";

/// The most classes a data set may have: 10, since IDX labels here are 0–9.
pub const MAX_CLASSES: usize = 10;

/// The longest class name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;

/// The largest `classes.txt` read: room for every name at its longest.
pub const MAX_FILE_BYTES: u64 = (MAX_CLASSES * (MAX_NAME_BYTES + 2)) as u64;

/// What each label stands for: the digits, or names read from [`CLASSES_FILE`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classes {
    /// `None` for the digits 0–9; else (classes): the name of class k.
    names: Option<Vec<String>>,
}

impl Classes {
    /// MNIST's classes: the ten digits, each named by itself.
    pub fn digits() -> Classes {
        Classes { names: None }
    }

    /// The classes of the data in `dir`: named by `dir/classes.txt` when it exists, else the
    /// digits.
    ///
    /// # Errors
    /// Whatever [`read_limited`] refuses (a `classes.txt` that is a folder or device, or
    /// longer than [`MAX_FILE_BYTES`]), and every malformed file ([`Classes::parse`]).
    pub fn load(dir: &Path) -> Result<Classes> {
        let path = dir.join(CLASSES_FILE);
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(Classes::digits());
        }
        let bytes = read_limited(&path, MAX_FILE_BYTES, "bytes in a class-name file")?;
        Classes::parse(&bytes, &path.display().to_string())
    }

    /// Parses a `classes.txt`: UTF-8, one name per line (`\n` or `\r\n`), surrounding spaces
    /// trimmed, blank lines at the end ignored. `what` names the file in errors.
    ///
    /// # Errors
    /// [`Error::Corrupt`] for text that is not UTF-8, an empty, repeated or over-long name, a
    /// name with a control character, or fewer than two names; [`Error::TooLarge`] for more
    /// than [`MAX_CLASSES`].
    pub fn parse(bytes: &[u8], what: &str) -> Result<Classes> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Error::corrupt(what, format!("it is not UTF-8 text ({e})")))?;
        let names: Vec<String> = text.trim_end().lines().map(|l| l.trim().into()).collect();
        if names.len() > MAX_CLASSES {
            return Err(Error::TooLarge {
                what: format!("class names in {what} (IDX labels are 0–9)"),
                got: names.len() as u64,
                limit: MAX_CLASSES as u64,
            });
        }
        if names.len() < 2 {
            let reason = "it names fewer than two classes; write one name per line";
            return Err(Error::corrupt(what, reason));
        }
        for (k, name) in names.iter().enumerate() {
            check_name(name, &names[..k])
                .map_err(|reason| Error::corrupt(what, format!("line {}: {reason}", k + 1)))?;
        }
        Ok(Classes { names: Some(names) })
    }

    /// Number of classes: the network's output size.
    pub fn len(&self) -> usize {
        self.names.as_ref().map_or(10, Vec::len)
    }

    /// Always false: a data set has at least two classes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True for MNIST's digits (no `classes.txt`).
    pub fn are_digits(&self) -> bool {
        self.names.is_none()
    }

    /// What one class is called in output: "digit", or "class" for named classes.
    pub fn noun(&self) -> &'static str {
        if self.are_digits() {
            "digit"
        } else {
            "class"
        }
    }

    /// The name of class `k`: the digit itself (`7`), or its line in `classes.txt`.
    ///
    /// # Panics
    /// If `k >= self.len()`.
    #[track_caller]
    pub fn name(&self, k: usize) -> String {
        assert!(k < self.len(), "class {k} of {}", self.len());
        match &self.names {
            Some(names) => names[k].clone(),
            None => k.to_string(),
        }
    }

    /// Checks that every label names one of these classes (`labels[i] < self.len()`).
    ///
    /// # Errors
    /// [`Error::Corrupt`] naming `what`, the first label out of range and the classes.
    pub fn check_labels(&self, labels: &[u8], what: &str) -> Result<()> {
        match labels.iter().position(|&label| label as usize >= self.len()) {
            None => Ok(()),
            Some(i) => Err(Error::corrupt(
                what,
                format!(
                    "label {} at index {i} names no class: {CLASSES_FILE} names {} (labels 0 to {})",
                    labels[i],
                    self.len(),
                    self.len() - 1
                ),
            )),
        }
    }
}

/// Why `name` (following `earlier`) cannot name a class, if it cannot.
fn check_name(name: &str, earlier: &[String]) -> std::result::Result<(), String> {
    if name.is_empty() {
        Err("the name is empty; write one name per line".into())
    } else if name.len() > MAX_NAME_BYTES {
        Err(format!(
            "the name is {} bytes long (at most {MAX_NAME_BYTES})",
            name.len()
        ))
    } else if name.chars().any(char::is_control) {
        Err(format!("the name {name:?} holds a control character"))
    } else if earlier.iter().any(|e| e == name) {
        Err(format!("the name {name:?} is given twice"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_name_themselves() {
        let digits = Classes::digits();
        assert_eq!((digits.len(), digits.noun()), (10, "digit"));
        assert_eq!(digits.name(7), "7");
    }

    #[test]
    fn names_are_read_one_per_line() {
        let classes = Classes::parse(b"T-shirt/top\r\n Trouser \nPullover\n\n", "c").unwrap();
        assert_eq!((classes.len(), classes.noun()), (3, "class"));
        assert_eq!(classes.name(1), "Trouser");
        assert!(classes.check_labels(&[0, 2, 1], "l").is_ok());
        let err = classes.check_labels(&[0, 3], "l").unwrap_err();
        assert!(err.to_string().contains("label 3 at index 1"), "{err}");
    }

    #[test]
    fn malformed_files_are_refused() {
        for (bytes, says) in [
            (&b"a\n\nb"[..], "line 2: the name is empty"),
            (b"a\na", "given twice"),
            (b"only one", "fewer than two"),
            (b"a\x07\nb", "control character"),
            (b"\xff\xfe", "not UTF-8"),
        ] {
            let err = Classes::parse(bytes, "c").unwrap_err();
            assert!(err.to_string().contains(says), "{err}");
        }
        let long = format!("{}\nb", "x".repeat(MAX_NAME_BYTES + 1));
        assert!(Classes::parse(long.as_bytes(), "c").is_err());
        let eleven: String = (0..11).map(|k| format!("c{k}\n")).collect();
        assert!(matches!(
            Classes::parse(eleven.as_bytes(), "c"),
            Err(Error::TooLarge { got: 11, .. })
        ));
    }

    #[test]
    fn a_folder_without_the_file_holds_digits() {
        let dir = std::env::temp_dir().join(format!("scratchnet-classes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(Classes::load(&dir).unwrap(), Classes::digits());
        std::fs::write(dir.join(CLASSES_FILE), "cat\ndog\n").unwrap();
        assert_eq!(Classes::load(&dir).unwrap().name(1), "dog");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The readers fill the scenario parser's raw configuration (the types a
//! scenario file's `[config]` is read into) with the deployment's values,
//! so that the scenario checks, which refuse what the real broker refuses,
//! run on them unchanged. A raw value's span holds no place in a scenario
//! file but a tag: the index of the setting it came from, so an error those
//! checks raise is put back on the deployment's own file, line and key.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::audit::deployment::TargetSetting;
use crate::audit::error::ReadError;
use crate::audit::origin::Origin;
use crate::scenario::error::ScenarioError;
use crate::scenario::spanned::Spanned;

/// Where an error about a setting should point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) path: PathBuf,
    pub(crate) line: Option<u32>,
}

struct Tagged {
    /// The key as the user's file names it.
    key: String,
    place: Place,
}

/// The settings read so far, in order, with their tags.
pub(crate) struct Tags {
    tagged: Vec<Tagged>,
    /// Where an error about the configuration as a whole points.
    whole: PathBuf,
    /// The settings as the page shows them.
    pub(crate) settings: Vec<TargetSetting>,
}

impl Tags {
    /// No settings yet; errors about no one setting point at `whole`.
    pub(crate) fn new(whole: &Path) -> Self {
        Tags {
            tagged: Vec::new(),
            whole: whole.to_path_buf(),
            settings: Vec::new(),
        }
    }

    /// Records setting `key` = `value` from `origin` (an error about it
    /// `raw`, read at `line` of the user's file `path`: its origin and the
    /// place its errors point at are that line.
    pub(crate) fn tag_in_file<T>(
        &mut self,
        key: &str,
        value: &str,
        path: &std::path::Path,
        line: u32,
        raw: T,
    ) -> Spanned<T> {
        let origin = Origin::File {
            path: path.to_path_buf(),
            line,
        };
        let place = Place {
            path: path.to_path_buf(),
            line: Some(line),
        };
        self.tag(key, value, origin, place, raw)
    }

    /// points at `place`) and returns `raw` tagged with it.
    pub(crate) fn tag<T>(
        &mut self,
        key: &str,
        value: &str,
        origin: Origin,
        place: Place,
        raw: T,
    ) -> Spanned<T> {
        self.tagged.push(Tagged {
            key: key.to_string(),
            place,
        });
        self.settings.push(TargetSetting {
            key: key.to_string(),
            value: value.to_string(),
            origin,
        });
        let tag = self.tagged.len();
        Spanned::new(tag..tag + 1, raw)
    }

    /// `raw` tagged with `key` and `place` for errors, shown on no page
    /// (an exchange's name, a binding).
    pub(crate) fn mark<T>(&mut self, key: &str, place: Place, raw: T) -> Spanned<T> {
        self.tagged.push(Tagged {
            key: key.to_string(),
            place,
        });
        let tag = self.tagged.len();
        Spanned::new(tag..tag + 1, raw)
    }

    /// `raw` standing for the configuration as a whole.
    pub(crate) fn whole<T>(&self, raw: T) -> Spanned<T> {
        Spanned::new(0..0, raw)
    }

    /// The error the scenario checks build: the tag goes in `line`, to be
    /// read back by [`Tags::audit_error`].
    pub(crate) fn scenario_error(
        span: Option<Range<usize>>,
        key: Option<&str>,
        message: String,
    ) -> ScenarioError {
        ScenarioError {
            file: PathBuf::new(),
            line: span.map_or(0, |s| s.start),
            column: 0,
            key: key.map(str::to_string),
            message,
            source_line: None,
        }
    }

    /// The deployment's own error for one the scenario checks raised.
    pub(crate) fn audit_error(&self, e: ScenarioError) -> ReadError {
        let tagged = e.line.checked_sub(1).and_then(|i| self.tagged.get(i));
        match tagged {
            Some(t) => ReadError {
                path: t.place.path.clone(),
                line: t.place.line,
                key: Some(t.key.clone()),
                message: e.message,
            },
            None => ReadError {
                path: self.whole.clone(),
                line: None,
                key: e.key,
                message: e.message,
            },
        }
    }
}

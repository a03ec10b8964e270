//! One finding model for every stage: catalog rows, channel items, feeds and guards.

mod collect;

pub use collect::{AllFindings, Findings, FindingsPolicy, Tally};

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;

use crate::rules::{Rule, Severity};

/// A problem found in the user's data, pinned to where they can fix it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// The file the finding is about, as the user named it.
    pub file: Arc<str>,
    /// 1-based physical line where the row starts; `None` for file-level findings.
    pub line: Option<u64>,
    /// The column as spelled in the user's header, when it differs from `field`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<Arc<str>>,
    /// The canonical field name (`title`, `gtin`, `price`…), stable across column mappings;
    /// for findings about a feed item, the channel's attribute name.
    pub field: Option<Cow<'static, str>>,
    pub sku: Option<String>,
    /// The feed, for findings raised while building one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed: Option<Arc<str>>,
    pub message: String,
    pub hint: &'static str,
}

impl Finding {
    pub fn new(rule: &'static Rule, file: &Arc<str>, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.code,
            severity: rule.severity,
            file: Arc::clone(file),
            line: None,
            column: None,
            field: None,
            sku: None,
            feed: None,
            message: message.into(),
            hint: rule.hint,
        }
    }

    pub fn line(mut self, line: u64) -> Finding {
        self.line = Some(line);
        self
    }

    pub fn field(mut self, field: impl Into<Cow<'static, str>>) -> Finding {
        self.field = Some(field.into());
        self
    }

    pub fn column(mut self, column: &Arc<str>) -> Finding {
        self.column = Some(Arc::clone(column));
        self
    }

    pub fn sku(mut self, sku: &str) -> Finding {
        if !sku.is_empty() {
            self.sku = Some(sku.to_owned());
        }
        self
    }

    pub fn feed(mut self, feed: &Arc<str>) -> Finding {
        self.feed = Some(Arc::clone(feed));
        self
    }

    /// Findings on fields whose facts are unconfirmed are kept as warnings.
    pub fn downgrade(mut self, to_warning: bool) -> Finding {
        if to_warning {
            self.severity = crate::rules::Severity::Warning;
        }
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

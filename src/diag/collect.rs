//! Where findings go while a run reads the catalog and builds feeds. A dirty catalog makes
//! millions of them (one missing recommended field, a million items, four feeds), so memory
//! holds only a count per rule and the first few of each; a JSON report, which lists every
//! finding, gets them from a temporary file that each finding is appended to as it comes.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::sync::Arc;

use serde::Serialize;
use serde::ser::{Error as _, SerializeSeq};

use super::Finding;
use crate::rules::Severity;

/// How many findings a run keeps, and whether it writes every one down for a full report.
#[derive(Debug, Clone)]
pub struct FindingsPolicy {
    /// Findings kept in memory per rule (the first ones); the rest are only counted.
    pub max_per_rule: usize,
    /// Write every finding to a temporary file, for reports that list them all.
    pub list_all: bool,
    /// Keep every finding of this SKU and no other (`preview`).
    pub sku: Option<String>,
}

impl FindingsPolicy {
    /// The default of `--max-per-rule` and `[report] max_per_rule`.
    pub const DEFAULT_MAX_PER_RULE: usize = 5;
}

impl Default for FindingsPolicy {
    fn default() -> FindingsPolicy {
        FindingsPolicy {
            max_per_rule: FindingsPolicy::DEFAULT_MAX_PER_RULE,
            list_all: false,
            sku: None,
        }
    }
}

/// Errors and warnings counted per rule; every finding counts, kept or not.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Tally {
    pub errors: u64,
    pub warnings: u64,
    pub by_rule: BTreeMap<&'static str, u64>,
}

impl Tally {
    pub fn of(findings: &[Finding]) -> Tally {
        let mut tally = Tally::default();
        for finding in findings {
            tally.count(finding.rule, finding.severity, 1);
        }
        tally
    }

    fn count(&mut self, rule: &'static str, severity: Severity, n: u64) {
        match severity {
            Severity::Error => self.errors += n,
            Severity::Warning => self.warnings += n,
        }
        *self.by_rule.entry(rule).or_default() += n;
    }

    fn add(&mut self, other: &Tally) {
        self.errors += other.errors;
        self.warnings += other.warnings;
        for (rule, n) in &other.by_rule {
            *self.by_rule.entry(rule).or_default() += n;
        }
    }
}

/// The findings of one stage of a run: counted in full, the first `max_per_rule` of each rule
/// kept, and with [`FindingsPolicy::list_all`] every one written as a JSON line to a
/// temporary file.
#[derive(Debug)]
pub struct Findings {
    max_per_rule: usize,
    sku: Option<Arc<str>>,
    tally: Tally,
    kept: Vec<Finding>,
    kept_per_rule: HashMap<&'static str, usize>,
    all: Option<BufWriter<std::fs::File>>,
    /// The first error writing `all`; reported when the list is read.
    write_error: Option<std::io::Error>,
}

impl Findings {
    pub fn new(policy: &FindingsPolicy) -> std::io::Result<Findings> {
        let all = if policy.list_all {
            Some(BufWriter::new(tempfile::tempfile()?))
        } else {
            None
        };
        Ok(Findings {
            max_per_rule: policy.max_per_rule,
            sku: policy.sku.as_deref().map(Arc::from),
            tally: Tally::default(),
            kept: Vec::new(),
            kept_per_rule: HashMap::new(),
            all,
            write_error: None,
        })
    }

    pub fn push(&mut self, finding: Finding) {
        self.tally.count(finding.rule, finding.severity, 1);
        if let Some(sku) = &self.sku {
            if finding.sku.as_deref() == Some(&**sku) {
                self.kept.push(finding);
            }
            return;
        }
        if let Some(all) = &mut self.all
            && self.write_error.is_none()
        {
            let written = serde_json::to_writer(&mut *all, &finding)
                .map_err(std::io::Error::from)
                .and_then(|()| all.write_all(b"\n"));
            if let Err(err) = written {
                self.write_error = Some(err);
            }
        }
        self.keep_first(finding);
    }

    /// Keeps `finding` while its rule has fewer than `max_per_rule` kept.
    fn keep_first(&mut self, finding: Finding) {
        let kept = self.kept_per_rule.entry(finding.rule).or_default();
        if *kept < self.max_per_rule {
            *kept += 1;
            self.kept.push(finding);
        }
    }

    pub fn extend(&mut self, findings: impl IntoIterator<Item = Finding>) {
        for finding in findings {
            self.push(finding);
        }
    }

    /// Takes over another stage's findings, after this one's.
    pub fn absorb(&mut self, other: Findings) -> std::io::Result<()> {
        self.tally.add(&other.tally);
        if let Some(err) = other.write_error {
            self.write_error.get_or_insert(err);
        }
        if let (Some(all), Some(theirs)) = (&mut self.all, other.all) {
            let mut file = theirs.into_inner().map_err(|err| err.into_error())?;
            file.rewind()?;
            std::io::copy(&mut file, all)?;
        }
        for finding in other.kept {
            if self.sku.is_some() {
                self.kept.push(finding);
            } else {
                self.keep_first(finding);
            }
        }
        Ok(())
    }

    /// Errors and warnings per rule, counting every finding.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    pub fn has_errors(&self) -> bool {
        self.tally.errors > 0
    }

    /// The first findings of each rule, in the order they came (or as sorted).
    pub fn kept(&self) -> &[Finding] {
        &self.kept
    }

    pub fn sort_kept(&mut self, compare: impl FnMut(&Finding, &Finding) -> std::cmp::Ordering) {
        self.kept.sort_by(compare);
    }

    /// Every finding, for a report that lists them all: read back one at a time from the
    /// temporary file, or the kept ones when the policy did not ask for the full list.
    pub fn all(&mut self) -> std::io::Result<AllFindings<'_>> {
        if let Some(all) = &mut self.all {
            all.flush()?;
        }
        Ok(AllFindings(self))
    }
}

/// Serializes as a JSON array of every finding, without holding them all.
pub struct AllFindings<'f>(&'f Findings);

impl Serialize for AllFindings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let findings = self.0;
        if let Some(err) = &findings.write_error {
            return Err(S::Error::custom(format!(
                "could not write findings to a temporary file: {err}"
            )));
        }
        let Some(all) = &findings.all else {
            return findings.kept.serialize(serializer);
        };
        // Serialize takes &self; the file is read through a second handle.
        let mut file = all
            .get_ref()
            .try_clone()
            .map_err(|err| S::Error::custom(format!("reading findings back: {err}")))?;
        let mut seq = serializer.serialize_seq(None)?;
        file.rewind()
            .map_err(|err| S::Error::custom(format!("reading findings back: {err}")))?;
        for line in BufReader::new(file).lines() {
            let line =
                line.map_err(|err| S::Error::custom(format!("reading findings back: {err}")))?;
            // Written by serde_json above, so passed on as it is, without a parse into a tree.
            let raw = serde_json::value::RawValue::from_string(line)
                .map_err(|err| S::Error::custom(format!("reading findings back: {err}")))?;
            seq.serialize_element(&raw)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests;

use std::io::Write;

use crate::exit::Exit;
use crate::rules;

pub fn run(code: Option<&str>) -> anyhow::Result<Exit> {
    let mut out = crate::report::stdout::stdout();
    let exit = match code {
        None => {
            for rule in rules::ALL {
                writeln!(
                    out,
                    "{:<24} {:<8} {}",
                    rule.code,
                    rule.severity.as_str(),
                    rule.summary
                )?;
            }
            Exit::Ok
        }
        Some(code) => match rules::find(code) {
            Some(rule) => {
                writeln!(
                    out,
                    "{} ({}): {}\n",
                    rule.code,
                    rule.severity.as_str(),
                    rule.summary
                )?;
                writeln!(out, "{}\n", rule.explain)?;
                writeln!(out, "hint: {}", rule.hint)?;
                Exit::Ok
            }
            None => {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: no rule `{code}`\n  hint: `omnifeed explain` lists all rule codes"
                );
                Exit::Usage
            }
        },
    };
    out.flush()?;
    Ok(exit)
}

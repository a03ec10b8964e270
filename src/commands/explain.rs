use crate::exit::Exit;
use crate::rules;

pub fn run(code: Option<&str>) -> anyhow::Result<Exit> {
    match code {
        None => {
            for rule in rules::ALL {
                println!(
                    "{:<24} {:<8} {}",
                    rule.code,
                    rule.severity.as_str(),
                    rule.summary
                );
            }
            Ok(Exit::Ok)
        }
        Some(code) => match rules::find(code) {
            Some(rule) => {
                println!(
                    "{} ({}): {}\n",
                    rule.code,
                    rule.severity.as_str(),
                    rule.summary
                );
                println!("{}\n", rule.explain);
                println!("hint: {}", rule.hint);
                Ok(Exit::Ok)
            }
            None => {
                eprintln!(
                    "error: no rule `{code}`\n  hint: `omnifeed explain` lists all rule codes"
                );
                Ok(Exit::Usage)
            }
        },
    }
}

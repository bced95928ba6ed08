use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

fn main() -> ExitCode {
    let cli = match portcullis::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => error.exit(),
        Err(error) => {
            // An unusable command line: one line, like every other error, and status 2.
            eprintln!("{}", portcullis::cli::one_line(&error));
            return ExitCode::from(2);
        }
    };
    portcullis::telemetry::init(cli.log_format());
    match portcullis::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, for people and scripts; the cause chain only when it adds something.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

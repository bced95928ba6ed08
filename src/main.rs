use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = portcullis::cli::Cli::parse();
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

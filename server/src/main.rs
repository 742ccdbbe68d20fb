//! `airdesk`: parse the command line, run the command, and turn any failure into one line.
// Rendering the portal's deeply nested view types in release builds needs the room.
#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = server::cli::Cli::parse();
    server::telemetry::init(&cli.log);
    match server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("airdesk: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    remote_action_audits::cli::run().await
}

//! The sample game's own binary, `openlift-sample-game`; the game is in the library.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    openlift_sample_game::run(openlift_sample_game::Args::parse()).await
}

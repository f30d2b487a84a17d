//! A replicated lock service with fencing tokens over TCP, and its command
//! line.
//!
//! ```sh
//! cargo run --release --example lock_service -- demo
//! # or a cluster of three processes:
//! cargo run --release --example lock_service -- serve --id 1 --data-dir /tmp/lock1 \
//!   --peer 1=127.0.0.1:7101,127.0.0.1:8101 --peer 2=127.0.0.1:7102,127.0.0.1:8102 \
//!   --peer 3=127.0.0.1:7103,127.0.0.1:8103          # and --id 2, --id 3
//! cargo run --release --example lock_service -- lock printer --node 1=127.0.0.1:8101 --node 2=127.0.0.1:8102 --hold-ms 5000
//! cargo run --release --example lock_service -- status printer --node 2=127.0.0.1:8102
//! cargo run --release --example lock_service -- watch --node 3=127.0.0.1:8103
//! cargo run --release --example lock_service -- unlock printer --session 7 --token 3 --node 1=127.0.0.1:8101
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    synod_examples::lockservice::cli::run(std::env::args().skip(1))
}

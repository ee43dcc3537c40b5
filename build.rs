//! Compiles `proto/` with protox (pure Rust: no system `protoc` needed) and tonic-prost-build,
//! and writes the encoded file descriptor set that gRPC reflection serves.

use std::{env, fs, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/peerscope/v1/peerscope.proto";
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile([proto], ["proto"])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("peerscope_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds.clone())?;
    // The server once more, over the same messages, except that StreamPeerEvents sends
    // events that are encoded once and shared by every subscriber (`api::wire`).
    let wire = out.join("wire");
    fs::create_dir_all(&wire)?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .out_dir(&wire)
        .extern_path(".peerscope.v1", "crate::proto::pb")
        .extern_path(
            ".peerscope.v1.StreamPeerEventsResponse",
            "crate::api::wire::EncodedEvent",
        )
        .compile_fds(fds)?;
    Ok(())
}

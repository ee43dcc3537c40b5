//! Generated `peerscope.v1` types and the encoded file descriptor set served by reflection.

/// The `peerscope.v1` package (messages, `crawler_server`, `crawler_client`).
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("peerscope.v1");

    /// Encoded `FileDescriptorSet` of `proto/peerscope/v1/peerscope.proto`.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/peerscope_descriptor.bin"));
}

//! Waku peer exchange (`/vac/waku/peer-exchange/2.0.0-alpha1`): one uvarint
//! length-prefixed `PeerExchangeRPC` per direction, read by `waku::read_message` (what the
//! `PxCodec` does), then what the crawl does with it: the records of a response
//! (`waku::px_records`, the crawl's own decode path) and the size of a query.
#![no_main]

use futures::executor::block_on;
use futures::io::Cursor;
use libfuzzer_sys::fuzz_target;
use peerscope::protocol::enr::DecodedEnr;
use peerscope::protocol::waku::{px_records, read_message, PxRpc, PX_MAX_BYTES, PX_MAX_PEERS};
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let framed = block_on(read_message::<PxRpc, _>(
        &mut Cursor::new(data),
        PX_MAX_BYTES,
    ))
    .ok();
    for rpc in [framed, PxRpc::decode(data).ok()].into_iter().flatten() {
        if let Some(response) = &rpc.response {
            let px = px_records(response);
            let looked_at = response.peer_infos.len().min(PX_MAX_PEERS as usize);
            assert_eq!(px.records.len() as u64 + px.undecodable, looked_at as u64);
            for enr in &px.records {
                assert!(enr.verify());
                let _ = DecodedEnr::from_enr(enr);
            }
            let _ = response.status_desc.as_deref().unwrap_or_default().len();
        }
        if let Some(query) = &rpc.query {
            // What the seed answers at most.
            let k = query.num_peers.min(PX_MAX_PEERS) as usize;
            assert!(k <= PX_MAX_PEERS as usize);
        }
        // What we send reads back the same.
        let wire = rpc.encode_to_vec();
        assert_eq!(PxRpc::decode(wire.as_slice()).as_ref(), Ok(&rpc));
    }
});

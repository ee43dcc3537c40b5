//! Wire formats and protocol logic, with no store and no engine: ENR decoding and building
//! (`enr`), the Waku protocols' codecs and relay configuration (`waku`), and EIP-1459 DNS
//! trees (`dns`: parsing, verifying and building; its resolver speaks DNS through hickory).

pub mod dns;
pub mod enr;
pub mod waku;

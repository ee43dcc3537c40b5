import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CrawlMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CRAWL_MODE_UNSPECIFIED: _ClassVar[CrawlMode]
    CRAWL_MODE_ONESHOT: _ClassVar[CrawlMode]
    CRAWL_MODE_CONTINUOUS: _ClassVar[CrawlMode]

class CrawlState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CRAWL_STATE_UNSPECIFIED: _ClassVar[CrawlState]
    CRAWL_STATE_RUNNING: _ClassVar[CrawlState]
    CRAWL_STATE_FINISHED: _ClassVar[CrawlState]
    CRAWL_STATE_STOPPED: _ClassVar[CrawlState]
    CRAWL_STATE_FAILED: _ClassVar[CrawlState]
    CRAWL_STATE_INTERRUPTED: _ClassVar[CrawlState]

class PeerEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PEER_EVENT_KIND_UNSPECIFIED: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_DISCOVERED: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_ENR_UPDATED: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_CONNECTED: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_IDENTIFIED: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_METADATA: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_DIAL_FAILED: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_DISCONNECTED: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_BANNED: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_UNBANNED: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_PEER_UP: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_PEER_DOWN: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_PEER_EXCHANGE: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_PEER_EXCHANGE_SERVED: _ClassVar[PeerEventKind]
    PEER_EVENT_KIND_RESUMED: _ClassVar[PeerEventKind]

class ShardEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHARD_ENCODING_UNSPECIFIED: _ClassVar[ShardEncoding]
    SHARD_ENCODING_RS: _ClassVar[ShardEncoding]
    SHARD_ENCODING_RSV: _ClassVar[ShardEncoding]

class MessageDimension(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_DIMENSION_UNSPECIFIED: _ClassVar[MessageDimension]
    MESSAGE_DIMENSION_PUBSUB_TOPIC: _ClassVar[MessageDimension]
    MESSAGE_DIMENSION_APPLICATION: _ClassVar[MessageDimension]
    MESSAGE_DIMENSION_CONTENT_TOPIC: _ClassVar[MessageDimension]
CRAWL_MODE_UNSPECIFIED: CrawlMode
CRAWL_MODE_ONESHOT: CrawlMode
CRAWL_MODE_CONTINUOUS: CrawlMode
CRAWL_STATE_UNSPECIFIED: CrawlState
CRAWL_STATE_RUNNING: CrawlState
CRAWL_STATE_FINISHED: CrawlState
CRAWL_STATE_STOPPED: CrawlState
CRAWL_STATE_FAILED: CrawlState
CRAWL_STATE_INTERRUPTED: CrawlState
PEER_EVENT_KIND_UNSPECIFIED: PeerEventKind
PEER_EVENT_KIND_DISCOVERED: PeerEventKind
PEER_EVENT_KIND_ENR_UPDATED: PeerEventKind
PEER_EVENT_KIND_CONNECTED: PeerEventKind
PEER_EVENT_KIND_IDENTIFIED: PeerEventKind
PEER_EVENT_KIND_METADATA: PeerEventKind
PEER_EVENT_KIND_DIAL_FAILED: PeerEventKind
PEER_EVENT_KIND_DISCONNECTED: PeerEventKind
PEER_EVENT_KIND_BANNED: PeerEventKind
PEER_EVENT_KIND_UNBANNED: PeerEventKind
PEER_EVENT_KIND_PEER_UP: PeerEventKind
PEER_EVENT_KIND_PEER_DOWN: PeerEventKind
PEER_EVENT_KIND_PEER_EXCHANGE: PeerEventKind
PEER_EVENT_KIND_PEER_EXCHANGE_SERVED: PeerEventKind
PEER_EVENT_KIND_RESUMED: PeerEventKind
SHARD_ENCODING_UNSPECIFIED: ShardEncoding
SHARD_ENCODING_RS: ShardEncoding
SHARD_ENCODING_RSV: ShardEncoding
MESSAGE_DIMENSION_UNSPECIFIED: MessageDimension
MESSAGE_DIMENSION_PUBSUB_TOPIC: MessageDimension
MESSAGE_DIMENSION_APPLICATION: MessageDimension
MESSAGE_DIMENSION_CONTENT_TOPIC: MessageDimension

class NetworkProfile(_message.Message):
    __slots__ = ("waku", "ethereum", "custom", "cometbft")
    WAKU_FIELD_NUMBER: _ClassVar[int]
    ETHEREUM_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    COMETBFT_FIELD_NUMBER: _ClassVar[int]
    waku: WakuProfile
    ethereum: EthereumProfile
    custom: CustomProfile
    cometbft: CometBftProfile
    def __init__(self, waku: _Optional[_Union[WakuProfile, _Mapping]] = ..., ethereum: _Optional[_Union[EthereumProfile, _Mapping]] = ..., custom: _Optional[_Union[CustomProfile, _Mapping]] = ..., cometbft: _Optional[_Union[CometBftProfile, _Mapping]] = ...) -> None: ...

class CometBftProfile(_message.Message):
    __slots__ = ("chain_id", "peers", "crawl_interval", "min_recrawl", "max_dial_attempts", "ban_duration", "new_bias_percent", "exchange_timeout", "max_addrs", "block_version", "p2p_version", "moniker", "seed")
    CHAIN_ID_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    CRAWL_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    MIN_RECRAWL_FIELD_NUMBER: _ClassVar[int]
    MAX_DIAL_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    BAN_DURATION_FIELD_NUMBER: _ClassVar[int]
    NEW_BIAS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    MAX_ADDRS_FIELD_NUMBER: _ClassVar[int]
    BLOCK_VERSION_FIELD_NUMBER: _ClassVar[int]
    P2P_VERSION_FIELD_NUMBER: _ClassVar[int]
    MONIKER_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    chain_id: str
    peers: _containers.RepeatedScalarFieldContainer[str]
    crawl_interval: _duration_pb2.Duration
    min_recrawl: _duration_pb2.Duration
    max_dial_attempts: int
    ban_duration: _duration_pb2.Duration
    new_bias_percent: int
    exchange_timeout: _duration_pb2.Duration
    max_addrs: int
    block_version: int
    p2p_version: int
    moniker: str
    seed: CometBftSeedOptions
    def __init__(self, chain_id: _Optional[str] = ..., peers: _Optional[_Iterable[str]] = ..., crawl_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., min_recrawl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_dial_attempts: _Optional[int] = ..., ban_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., new_bias_percent: _Optional[int] = ..., exchange_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_addrs: _Optional[int] = ..., block_version: _Optional[int] = ..., p2p_version: _Optional[int] = ..., moniker: _Optional[str] = ..., seed: _Optional[_Union[CometBftSeedOptions, _Mapping]] = ...) -> None: ...

class CometBftSeedOptions(_message.Message):
    __slots__ = ("listen_addr", "external_addr", "request_interval", "max_reply", "max_inbound", "idle_timeout")
    LISTEN_ADDR_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ADDR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    MAX_REPLY_FIELD_NUMBER: _ClassVar[int]
    MAX_INBOUND_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    listen_addr: str
    external_addr: str
    request_interval: _duration_pb2.Duration
    max_reply: int
    max_inbound: int
    idle_timeout: _duration_pb2.Duration
    def __init__(self, listen_addr: _Optional[str] = ..., external_addr: _Optional[str] = ..., request_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_reply: _Optional[int] = ..., max_inbound: _Optional[int] = ..., idle_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class WakuProfile(_message.Message):
    __slots__ = ("cluster_id", "shards", "preset", "protocol_id")
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    SHARDS_FIELD_NUMBER: _ClassVar[int]
    PRESET_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_ID_FIELD_NUMBER: _ClassVar[int]
    cluster_id: int
    shards: _containers.RepeatedScalarFieldContainer[int]
    preset: str
    protocol_id: str
    def __init__(self, cluster_id: _Optional[int] = ..., shards: _Optional[_Iterable[int]] = ..., preset: _Optional[str] = ..., protocol_id: _Optional[str] = ...) -> None: ...

class EthereumProfile(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CustomProfile(_message.Message):
    __slots__ = ("protocol_id",)
    PROTOCOL_ID_FIELD_NUMBER: _ClassVar[int]
    protocol_id: str
    def __init__(self, protocol_id: _Optional[str] = ...) -> None: ...

class CrawlLimits(_message.Message):
    __slots__ = ("max_peers", "max_duration", "max_new_per_responder")
    MAX_PEERS_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_PER_RESPONDER_FIELD_NUMBER: _ClassVar[int]
    max_peers: int
    max_duration: _duration_pb2.Duration
    max_new_per_responder: int
    def __init__(self, max_peers: _Optional[int] = ..., max_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_new_per_responder: _Optional[int] = ...) -> None: ...

class StartCrawlRequest(_message.Message):
    __slots__ = ("profile", "bootstrap_enrs", "dns_tree_urls", "mode", "recrawl_interval", "concurrency", "request_timeout", "find_node_distances", "random_lookups", "limits", "name", "labels", "listen_addr", "dial", "dial_concurrency", "dial_timeout", "dials_per_ip", "min_redial_interval", "relay", "relay_peers", "pubsub_topics", "peer_exchange", "allowed_cidrs")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_ENRS_FIELD_NUMBER: _ClassVar[int]
    DNS_TREE_URLS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    RECRAWL_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    FIND_NODE_DISTANCES_FIELD_NUMBER: _ClassVar[int]
    RANDOM_LOOKUPS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LISTEN_ADDR_FIELD_NUMBER: _ClassVar[int]
    DIAL_FIELD_NUMBER: _ClassVar[int]
    DIAL_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    DIAL_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    DIALS_PER_IP_FIELD_NUMBER: _ClassVar[int]
    MIN_REDIAL_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    RELAY_FIELD_NUMBER: _ClassVar[int]
    RELAY_PEERS_FIELD_NUMBER: _ClassVar[int]
    PUBSUB_TOPICS_FIELD_NUMBER: _ClassVar[int]
    PEER_EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_CIDRS_FIELD_NUMBER: _ClassVar[int]
    profile: NetworkProfile
    bootstrap_enrs: _containers.RepeatedScalarFieldContainer[str]
    dns_tree_urls: _containers.RepeatedScalarFieldContainer[str]
    mode: CrawlMode
    recrawl_interval: _duration_pb2.Duration
    concurrency: int
    request_timeout: _duration_pb2.Duration
    find_node_distances: int
    random_lookups: int
    limits: CrawlLimits
    name: str
    labels: _containers.ScalarMap[str, str]
    listen_addr: str
    dial: bool
    dial_concurrency: int
    dial_timeout: _duration_pb2.Duration
    dials_per_ip: int
    min_redial_interval: _duration_pb2.Duration
    relay: bool
    relay_peers: int
    pubsub_topics: _containers.RepeatedScalarFieldContainer[str]
    peer_exchange: PeerExchangeOptions
    allowed_cidrs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, profile: _Optional[_Union[NetworkProfile, _Mapping]] = ..., bootstrap_enrs: _Optional[_Iterable[str]] = ..., dns_tree_urls: _Optional[_Iterable[str]] = ..., mode: _Optional[_Union[CrawlMode, str]] = ..., recrawl_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., concurrency: _Optional[int] = ..., request_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., find_node_distances: _Optional[int] = ..., random_lookups: _Optional[int] = ..., limits: _Optional[_Union[CrawlLimits, _Mapping]] = ..., name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., listen_addr: _Optional[str] = ..., dial: _Optional[bool] = ..., dial_concurrency: _Optional[int] = ..., dial_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., dials_per_ip: _Optional[int] = ..., min_redial_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., relay: _Optional[bool] = ..., relay_peers: _Optional[int] = ..., pubsub_topics: _Optional[_Iterable[str]] = ..., peer_exchange: _Optional[_Union[PeerExchangeOptions, _Mapping]] = ..., allowed_cidrs: _Optional[_Iterable[str]] = ...) -> None: ...

class PeerExchangeOptions(_message.Message):
    __slots__ = ("client", "interval", "seed")
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    client: bool
    interval: _duration_pb2.Duration
    seed: SeedOptions
    def __init__(self, client: _Optional[bool] = ..., interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., seed: _Optional[_Union[SeedOptions, _Mapping]] = ...) -> None: ...

class SeedOptions(_message.Message):
    __slots__ = ("listen_addr", "advertise_ip", "requester_interval", "requests_per_ip")
    LISTEN_ADDR_FIELD_NUMBER: _ClassVar[int]
    ADVERTISE_IP_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_IP_FIELD_NUMBER: _ClassVar[int]
    listen_addr: str
    advertise_ip: str
    requester_interval: _duration_pb2.Duration
    requests_per_ip: int
    def __init__(self, listen_addr: _Optional[str] = ..., advertise_ip: _Optional[str] = ..., requester_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., requests_per_ip: _Optional[int] = ...) -> None: ...

class StartCrawlResponse(_message.Message):
    __slots__ = ("crawl",)
    CRAWL_FIELD_NUMBER: _ClassVar[int]
    crawl: Crawl
    def __init__(self, crawl: _Optional[_Union[Crawl, _Mapping]] = ...) -> None: ...

class StopCrawlRequest(_message.Message):
    __slots__ = ("crawl_id",)
    CRAWL_ID_FIELD_NUMBER: _ClassVar[int]
    crawl_id: str
    def __init__(self, crawl_id: _Optional[str] = ...) -> None: ...

class StopCrawlResponse(_message.Message):
    __slots__ = ("crawl",)
    CRAWL_FIELD_NUMBER: _ClassVar[int]
    crawl: Crawl
    def __init__(self, crawl: _Optional[_Union[Crawl, _Mapping]] = ...) -> None: ...

class GetCrawlRequest(_message.Message):
    __slots__ = ("crawl_id",)
    CRAWL_ID_FIELD_NUMBER: _ClassVar[int]
    crawl_id: str
    def __init__(self, crawl_id: _Optional[str] = ...) -> None: ...

class GetCrawlResponse(_message.Message):
    __slots__ = ("crawl",)
    CRAWL_FIELD_NUMBER: _ClassVar[int]
    crawl: Crawl
    def __init__(self, crawl: _Optional[_Union[Crawl, _Mapping]] = ...) -> None: ...

class ListCrawlsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: CrawlState
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[CrawlState, str]] = ...) -> None: ...

class ListCrawlsResponse(_message.Message):
    __slots__ = ("crawls", "next_page_token")
    CRAWLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    crawls: _containers.RepeatedCompositeFieldContainer[Crawl]
    next_page_token: str
    def __init__(self, crawls: _Optional[_Iterable[_Union[Crawl, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchCrawlRequest(_message.Message):
    __slots__ = ("crawl_id", "interval")
    CRAWL_ID_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    crawl_id: str
    interval: _duration_pb2.Duration
    def __init__(self, crawl_id: _Optional[str] = ..., interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class WatchCrawlResponse(_message.Message):
    __slots__ = ("crawl",)
    CRAWL_FIELD_NUMBER: _ClassVar[int]
    crawl: Crawl
    def __init__(self, crawl: _Optional[_Union[Crawl, _Mapping]] = ...) -> None: ...

class Crawl(_message.Message):
    __slots__ = ("id", "name", "labels", "state", "mode", "profile", "bootstrap_enrs", "dns_tree_urls", "created_at", "finished_at", "progress", "error", "listen_addr", "settings", "seed_addr", "local_enr")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_ENRS_FIELD_NUMBER: _ClassVar[int]
    DNS_TREE_URLS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LISTEN_ADDR_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    SEED_ADDR_FIELD_NUMBER: _ClassVar[int]
    LOCAL_ENR_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    labels: _containers.ScalarMap[str, str]
    state: CrawlState
    mode: CrawlMode
    profile: NetworkProfile
    bootstrap_enrs: _containers.RepeatedScalarFieldContainer[str]
    dns_tree_urls: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    progress: CrawlProgress
    error: str
    listen_addr: str
    settings: CrawlSettings
    seed_addr: str
    local_enr: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., state: _Optional[_Union[CrawlState, str]] = ..., mode: _Optional[_Union[CrawlMode, str]] = ..., profile: _Optional[_Union[NetworkProfile, _Mapping]] = ..., bootstrap_enrs: _Optional[_Iterable[str]] = ..., dns_tree_urls: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., progress: _Optional[_Union[CrawlProgress, _Mapping]] = ..., error: _Optional[str] = ..., listen_addr: _Optional[str] = ..., settings: _Optional[_Union[CrawlSettings, _Mapping]] = ..., seed_addr: _Optional[str] = ..., local_enr: _Optional[str] = ...) -> None: ...

class CrawlSettings(_message.Message):
    __slots__ = ("concurrency", "request_timeout", "find_node_distances", "random_lookups", "recrawl_interval", "limits", "dial", "dial_concurrency", "dial_timeout", "dials_per_ip", "min_redial_interval", "relay", "relay_peers", "pubsub_topics", "px_client", "px_interval", "seed", "seed_requester_interval", "seed_requests_per_ip", "allowed_cidrs", "address_scope")
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    FIND_NODE_DISTANCES_FIELD_NUMBER: _ClassVar[int]
    RANDOM_LOOKUPS_FIELD_NUMBER: _ClassVar[int]
    RECRAWL_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    DIAL_FIELD_NUMBER: _ClassVar[int]
    DIAL_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    DIAL_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    DIALS_PER_IP_FIELD_NUMBER: _ClassVar[int]
    MIN_REDIAL_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    RELAY_FIELD_NUMBER: _ClassVar[int]
    RELAY_PEERS_FIELD_NUMBER: _ClassVar[int]
    PUBSUB_TOPICS_FIELD_NUMBER: _ClassVar[int]
    PX_CLIENT_FIELD_NUMBER: _ClassVar[int]
    PX_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SEED_REQUESTER_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    SEED_REQUESTS_PER_IP_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_CIDRS_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_SCOPE_FIELD_NUMBER: _ClassVar[int]
    concurrency: int
    request_timeout: _duration_pb2.Duration
    find_node_distances: int
    random_lookups: int
    recrawl_interval: _duration_pb2.Duration
    limits: CrawlLimits
    dial: bool
    dial_concurrency: int
    dial_timeout: _duration_pb2.Duration
    dials_per_ip: int
    min_redial_interval: _duration_pb2.Duration
    relay: bool
    relay_peers: int
    pubsub_topics: _containers.RepeatedScalarFieldContainer[str]
    px_client: bool
    px_interval: _duration_pb2.Duration
    seed: bool
    seed_requester_interval: _duration_pb2.Duration
    seed_requests_per_ip: int
    allowed_cidrs: _containers.RepeatedScalarFieldContainer[str]
    address_scope: str
    def __init__(self, concurrency: _Optional[int] = ..., request_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., find_node_distances: _Optional[int] = ..., random_lookups: _Optional[int] = ..., recrawl_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., limits: _Optional[_Union[CrawlLimits, _Mapping]] = ..., dial: _Optional[bool] = ..., dial_concurrency: _Optional[int] = ..., dial_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., dials_per_ip: _Optional[int] = ..., min_redial_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., relay: _Optional[bool] = ..., relay_peers: _Optional[int] = ..., pubsub_topics: _Optional[_Iterable[str]] = ..., px_client: _Optional[bool] = ..., px_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., seed: _Optional[bool] = ..., seed_requester_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., seed_requests_per_ip: _Optional[int] = ..., allowed_cidrs: _Optional[_Iterable[str]] = ..., address_scope: _Optional[str] = ...) -> None: ...

class CrawlProgress(_message.Message):
    __slots__ = ("discovered", "queried", "queued", "in_flight", "find_node_requests", "find_node_failures", "unresponsive", "lookups", "enr_updates", "rounds", "elapsed", "dials", "dialing", "connected", "failed_by_class", "identified", "dial_queued", "relay_peers", "relay_mesh_peers", "messages", "estimated_remaining", "px_requests", "px_failures", "px_enrs", "px_served", "px_refused", "invalid_addrs", "banned", "px_refused_unlogged", "px_connections_refused", "dropped_over_cap", "dropped_over_budget", "out_of_scope", "find_node_timeouts", "request_timeout", "walk_tail", "lookup_only")
    class FailedByClassEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    DISCOVERED_FIELD_NUMBER: _ClassVar[int]
    QUERIED_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    FIND_NODE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    FIND_NODE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    UNRESPONSIVE_FIELD_NUMBER: _ClassVar[int]
    LOOKUPS_FIELD_NUMBER: _ClassVar[int]
    ENR_UPDATES_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    DIALS_FIELD_NUMBER: _ClassVar[int]
    DIALING_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    FAILED_BY_CLASS_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIED_FIELD_NUMBER: _ClassVar[int]
    DIAL_QUEUED_FIELD_NUMBER: _ClassVar[int]
    RELAY_PEERS_FIELD_NUMBER: _ClassVar[int]
    RELAY_MESH_PEERS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_REMAINING_FIELD_NUMBER: _ClassVar[int]
    PX_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    PX_FAILURES_FIELD_NUMBER: _ClassVar[int]
    PX_ENRS_FIELD_NUMBER: _ClassVar[int]
    PX_SERVED_FIELD_NUMBER: _ClassVar[int]
    PX_REFUSED_FIELD_NUMBER: _ClassVar[int]
    INVALID_ADDRS_FIELD_NUMBER: _ClassVar[int]
    BANNED_FIELD_NUMBER: _ClassVar[int]
    PX_REFUSED_UNLOGGED_FIELD_NUMBER: _ClassVar[int]
    PX_CONNECTIONS_REFUSED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_OVER_CAP_FIELD_NUMBER: _ClassVar[int]
    DROPPED_OVER_BUDGET_FIELD_NUMBER: _ClassVar[int]
    OUT_OF_SCOPE_FIELD_NUMBER: _ClassVar[int]
    FIND_NODE_TIMEOUTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    WALK_TAIL_FIELD_NUMBER: _ClassVar[int]
    LOOKUP_ONLY_FIELD_NUMBER: _ClassVar[int]
    discovered: int
    queried: int
    queued: int
    in_flight: int
    find_node_requests: int
    find_node_failures: int
    unresponsive: int
    lookups: int
    enr_updates: int
    rounds: int
    elapsed: _duration_pb2.Duration
    dials: int
    dialing: int
    connected: int
    failed_by_class: _containers.ScalarMap[str, int]
    identified: int
    dial_queued: int
    relay_peers: int
    relay_mesh_peers: int
    messages: int
    estimated_remaining: _duration_pb2.Duration
    px_requests: int
    px_failures: int
    px_enrs: int
    px_served: int
    px_refused: int
    invalid_addrs: int
    banned: int
    px_refused_unlogged: int
    px_connections_refused: int
    dropped_over_cap: int
    dropped_over_budget: int
    out_of_scope: int
    find_node_timeouts: int
    request_timeout: _duration_pb2.Duration
    walk_tail: _duration_pb2.Duration
    lookup_only: int
    def __init__(self, discovered: _Optional[int] = ..., queried: _Optional[int] = ..., queued: _Optional[int] = ..., in_flight: _Optional[int] = ..., find_node_requests: _Optional[int] = ..., find_node_failures: _Optional[int] = ..., unresponsive: _Optional[int] = ..., lookups: _Optional[int] = ..., enr_updates: _Optional[int] = ..., rounds: _Optional[int] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., dials: _Optional[int] = ..., dialing: _Optional[int] = ..., connected: _Optional[int] = ..., failed_by_class: _Optional[_Mapping[str, int]] = ..., identified: _Optional[int] = ..., dial_queued: _Optional[int] = ..., relay_peers: _Optional[int] = ..., relay_mesh_peers: _Optional[int] = ..., messages: _Optional[int] = ..., estimated_remaining: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., px_requests: _Optional[int] = ..., px_failures: _Optional[int] = ..., px_enrs: _Optional[int] = ..., px_served: _Optional[int] = ..., px_refused: _Optional[int] = ..., invalid_addrs: _Optional[int] = ..., banned: _Optional[int] = ..., px_refused_unlogged: _Optional[int] = ..., px_connections_refused: _Optional[int] = ..., dropped_over_cap: _Optional[int] = ..., dropped_over_budget: _Optional[int] = ..., out_of_scope: _Optional[int] = ..., find_node_timeouts: _Optional[int] = ..., request_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., walk_tail: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., lookup_only: _Optional[int] = ...) -> None: ...

class PeerEvent(_message.Message):
    __slots__ = ("sequence", "time", "kind", "crawl_id", "node_id", "peer_id", "enr_seq", "enr", "error_class", "detail")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CRAWL_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PEER_ID_FIELD_NUMBER: _ClassVar[int]
    ENR_SEQ_FIELD_NUMBER: _ClassVar[int]
    ENR_FIELD_NUMBER: _ClassVar[int]
    ERROR_CLASS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    time: _timestamp_pb2.Timestamp
    kind: PeerEventKind
    crawl_id: str
    node_id: str
    peer_id: str
    enr_seq: int
    enr: str
    error_class: str
    detail: str
    def __init__(self, sequence: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[PeerEventKind, str]] = ..., crawl_id: _Optional[str] = ..., node_id: _Optional[str] = ..., peer_id: _Optional[str] = ..., enr_seq: _Optional[int] = ..., enr: _Optional[str] = ..., error_class: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class StreamPeerEventsRequest(_message.Message):
    __slots__ = ("after_sequence", "crawl_id", "kinds", "node_id", "peer_id")
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CRAWL_ID_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PEER_ID_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    crawl_id: str
    kinds: _containers.RepeatedScalarFieldContainer[PeerEventKind]
    node_id: str
    peer_id: str
    def __init__(self, after_sequence: _Optional[int] = ..., crawl_id: _Optional[str] = ..., kinds: _Optional[_Iterable[_Union[PeerEventKind, str]]] = ..., node_id: _Optional[str] = ..., peer_id: _Optional[str] = ...) -> None: ...

class StreamPeerEventsResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: PeerEvent
    def __init__(self, event: _Optional[_Union[PeerEvent, _Mapping]] = ...) -> None: ...

class GetPeerRequest(_message.Message):
    __slots__ = ("node_id", "peer_id")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PEER_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    peer_id: str
    def __init__(self, node_id: _Optional[str] = ..., peer_id: _Optional[str] = ...) -> None: ...

class GetPeerResponse(_message.Message):
    __slots__ = ("peer",)
    PEER_FIELD_NUMBER: _ClassVar[int]
    peer: Peer
    def __init__(self, peer: _Optional[_Union[Peer, _Mapping]] = ...) -> None: ...

class ListPeersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "capability", "cluster_id", "shard", "crawl_id", "seen_since", "protocol", "agent", "reachable", "country", "chain_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    CRAWL_ID_FIELD_NUMBER: _ClassVar[int]
    SEEN_SINCE_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    CHAIN_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    capability: str
    cluster_id: int
    shard: int
    crawl_id: str
    seen_since: _timestamp_pb2.Timestamp
    protocol: str
    agent: str
    reachable: bool
    country: str
    chain_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., capability: _Optional[str] = ..., cluster_id: _Optional[int] = ..., shard: _Optional[int] = ..., crawl_id: _Optional[str] = ..., seen_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., protocol: _Optional[str] = ..., agent: _Optional[str] = ..., reachable: _Optional[bool] = ..., country: _Optional[str] = ..., chain_id: _Optional[str] = ...) -> None: ...

class ListPeersResponse(_message.Message):
    __slots__ = ("peers", "next_page_token")
    PEERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    peers: _containers.RepeatedCompositeFieldContainer[Peer]
    next_page_token: str
    def __init__(self, peers: _Optional[_Iterable[_Union[Peer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Peer(_message.Message):
    __slots__ = ("node_id", "peer_id", "enr", "enr_fields", "multiaddrs", "capabilities", "cluster_id", "shards", "first_seen", "last_seen", "crawl_ids", "enr_versions", "agent_version", "protocol_version", "protocols", "listen_addrs", "observed_addr", "metadata_cluster_id", "metadata_shards", "metadata_error", "rtt_last", "rtt_avg", "dial_attempts", "last_dial", "last_connected", "last_error_class", "last_error", "reachable", "state", "up_since", "down_since", "sessions", "uptime", "geo", "sources", "cometbft")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PEER_ID_FIELD_NUMBER: _ClassVar[int]
    ENR_FIELD_NUMBER: _ClassVar[int]
    ENR_FIELDS_FIELD_NUMBER: _ClassVar[int]
    MULTIADDRS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    SHARDS_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    CRAWL_IDS_FIELD_NUMBER: _ClassVar[int]
    ENR_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    LISTEN_ADDRS_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_ADDR_FIELD_NUMBER: _ClassVar[int]
    METADATA_CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_SHARDS_FIELD_NUMBER: _ClassVar[int]
    METADATA_ERROR_FIELD_NUMBER: _ClassVar[int]
    RTT_LAST_FIELD_NUMBER: _ClassVar[int]
    RTT_AVG_FIELD_NUMBER: _ClassVar[int]
    DIAL_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_DIAL_FIELD_NUMBER: _ClassVar[int]
    LAST_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_CLASS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UP_SINCE_FIELD_NUMBER: _ClassVar[int]
    DOWN_SINCE_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    GEO_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    COMETBFT_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    peer_id: str
    enr: str
    enr_fields: EnrFields
    multiaddrs: _containers.RepeatedScalarFieldContainer[str]
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    cluster_id: int
    shards: _containers.RepeatedScalarFieldContainer[int]
    first_seen: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    crawl_ids: _containers.RepeatedScalarFieldContainer[str]
    enr_versions: int
    agent_version: str
    protocol_version: str
    protocols: _containers.RepeatedScalarFieldContainer[str]
    listen_addrs: _containers.RepeatedScalarFieldContainer[str]
    observed_addr: str
    metadata_cluster_id: int
    metadata_shards: _containers.RepeatedScalarFieldContainer[int]
    metadata_error: str
    rtt_last: _duration_pb2.Duration
    rtt_avg: _duration_pb2.Duration
    dial_attempts: int
    last_dial: _timestamp_pb2.Timestamp
    last_connected: _timestamp_pb2.Timestamp
    last_error_class: str
    last_error: str
    reachable: bool
    state: str
    up_since: _timestamp_pb2.Timestamp
    down_since: _timestamp_pb2.Timestamp
    sessions: int
    uptime: _duration_pb2.Duration
    geo: GeoInfo
    sources: _containers.RepeatedCompositeFieldContainer[PeerSource]
    cometbft: CometBftNodeInfo
    def __init__(self, node_id: _Optional[str] = ..., peer_id: _Optional[str] = ..., enr: _Optional[str] = ..., enr_fields: _Optional[_Union[EnrFields, _Mapping]] = ..., multiaddrs: _Optional[_Iterable[str]] = ..., capabilities: _Optional[_Iterable[str]] = ..., cluster_id: _Optional[int] = ..., shards: _Optional[_Iterable[int]] = ..., first_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., crawl_ids: _Optional[_Iterable[str]] = ..., enr_versions: _Optional[int] = ..., agent_version: _Optional[str] = ..., protocol_version: _Optional[str] = ..., protocols: _Optional[_Iterable[str]] = ..., listen_addrs: _Optional[_Iterable[str]] = ..., observed_addr: _Optional[str] = ..., metadata_cluster_id: _Optional[int] = ..., metadata_shards: _Optional[_Iterable[int]] = ..., metadata_error: _Optional[str] = ..., rtt_last: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., rtt_avg: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., dial_attempts: _Optional[int] = ..., last_dial: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_connected: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error_class: _Optional[str] = ..., last_error: _Optional[str] = ..., reachable: _Optional[bool] = ..., state: _Optional[str] = ..., up_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., down_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sessions: _Optional[int] = ..., uptime: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., geo: _Optional[_Union[GeoInfo, _Mapping]] = ..., sources: _Optional[_Iterable[_Union[PeerSource, _Mapping]]] = ..., cometbft: _Optional[_Union[CometBftNodeInfo, _Mapping]] = ...) -> None: ...

class CometBftNodeInfo(_message.Message):
    __slots__ = ("p2p_version", "block_version", "app_version", "node_id", "listen_addr", "network", "version", "channels", "moniker", "tx_index", "rpc_address")
    P2P_VERSION_FIELD_NUMBER: _ClassVar[int]
    BLOCK_VERSION_FIELD_NUMBER: _ClassVar[int]
    APP_VERSION_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    LISTEN_ADDR_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    MONIKER_FIELD_NUMBER: _ClassVar[int]
    TX_INDEX_FIELD_NUMBER: _ClassVar[int]
    RPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    p2p_version: int
    block_version: int
    app_version: int
    node_id: str
    listen_addr: str
    network: str
    version: str
    channels: _containers.RepeatedScalarFieldContainer[int]
    moniker: str
    tx_index: str
    rpc_address: str
    def __init__(self, p2p_version: _Optional[int] = ..., block_version: _Optional[int] = ..., app_version: _Optional[int] = ..., node_id: _Optional[str] = ..., listen_addr: _Optional[str] = ..., network: _Optional[str] = ..., version: _Optional[str] = ..., channels: _Optional[_Iterable[int]] = ..., moniker: _Optional[str] = ..., tx_index: _Optional[str] = ..., rpc_address: _Optional[str] = ...) -> None: ...

class PeerSource(_message.Message):
    __slots__ = ("kind", "via_peer_id", "first_seen")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VIA_PEER_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_FIELD_NUMBER: _ClassVar[int]
    kind: str
    via_peer_id: str
    first_seen: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[str] = ..., via_peer_id: _Optional[str] = ..., first_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GeoInfo(_message.Message):
    __slots__ = ("ip", "country", "country_code", "city", "asn", "isp", "org", "private", "looked_up_at", "error")
    IP_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    ASN_FIELD_NUMBER: _ClassVar[int]
    ISP_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_FIELD_NUMBER: _ClassVar[int]
    LOOKED_UP_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ip: str
    country: str
    country_code: str
    city: str
    asn: str
    isp: str
    org: str
    private: bool
    looked_up_at: _timestamp_pb2.Timestamp
    error: str
    def __init__(self, ip: _Optional[str] = ..., country: _Optional[str] = ..., country_code: _Optional[str] = ..., city: _Optional[str] = ..., asn: _Optional[str] = ..., isp: _Optional[str] = ..., org: _Optional[str] = ..., private: _Optional[bool] = ..., looked_up_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class ShardInfo(_message.Message):
    __slots__ = ("cluster_id", "shards", "encoding", "raw")
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    SHARDS_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    cluster_id: int
    shards: _containers.RepeatedScalarFieldContainer[int]
    encoding: ShardEncoding
    raw: bytes
    def __init__(self, cluster_id: _Optional[int] = ..., shards: _Optional[_Iterable[int]] = ..., encoding: _Optional[_Union[ShardEncoding, str]] = ..., raw: _Optional[bytes] = ...) -> None: ...

class Eth2Info(_message.Message):
    __slots__ = ("fork_digest", "next_fork_version", "next_fork_epoch")
    FORK_DIGEST_FIELD_NUMBER: _ClassVar[int]
    NEXT_FORK_VERSION_FIELD_NUMBER: _ClassVar[int]
    NEXT_FORK_EPOCH_FIELD_NUMBER: _ClassVar[int]
    fork_digest: str
    next_fork_version: str
    next_fork_epoch: int
    def __init__(self, fork_digest: _Optional[str] = ..., next_fork_version: _Optional[str] = ..., next_fork_epoch: _Optional[int] = ...) -> None: ...

class EnrFields(_message.Message):
    __slots__ = ("seq", "ip4", "tcp4", "udp4", "ip6", "tcp6", "udp6", "waku2", "multiaddrs", "shards", "eth2", "attnets", "syncnets", "issues")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    IP4_FIELD_NUMBER: _ClassVar[int]
    TCP4_FIELD_NUMBER: _ClassVar[int]
    UDP4_FIELD_NUMBER: _ClassVar[int]
    IP6_FIELD_NUMBER: _ClassVar[int]
    TCP6_FIELD_NUMBER: _ClassVar[int]
    UDP6_FIELD_NUMBER: _ClassVar[int]
    WAKU2_FIELD_NUMBER: _ClassVar[int]
    MULTIADDRS_FIELD_NUMBER: _ClassVar[int]
    SHARDS_FIELD_NUMBER: _ClassVar[int]
    ETH2_FIELD_NUMBER: _ClassVar[int]
    ATTNETS_FIELD_NUMBER: _ClassVar[int]
    SYNCNETS_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    seq: int
    ip4: str
    tcp4: int
    udp4: int
    ip6: str
    tcp6: int
    udp6: int
    waku2: int
    multiaddrs: _containers.RepeatedScalarFieldContainer[str]
    shards: ShardInfo
    eth2: Eth2Info
    attnets: _containers.RepeatedScalarFieldContainer[int]
    syncnets: _containers.RepeatedScalarFieldContainer[int]
    issues: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, seq: _Optional[int] = ..., ip4: _Optional[str] = ..., tcp4: _Optional[int] = ..., udp4: _Optional[int] = ..., ip6: _Optional[str] = ..., tcp6: _Optional[int] = ..., udp6: _Optional[int] = ..., waku2: _Optional[int] = ..., multiaddrs: _Optional[_Iterable[str]] = ..., shards: _Optional[_Union[ShardInfo, _Mapping]] = ..., eth2: _Optional[_Union[Eth2Info, _Mapping]] = ..., attnets: _Optional[_Iterable[int]] = ..., syncnets: _Optional[_Iterable[int]] = ..., issues: _Optional[_Iterable[str]] = ...) -> None: ...

class GetMessageCountsRequest(_message.Message):
    __slots__ = ("pubsub_topic", "content_topic_prefix", "since", "until", "group_by")
    PUBSUB_TOPIC_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TOPIC_PREFIX_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    pubsub_topic: str
    content_topic_prefix: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    group_by: _containers.RepeatedScalarFieldContainer[MessageDimension]
    def __init__(self, pubsub_topic: _Optional[str] = ..., content_topic_prefix: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., group_by: _Optional[_Iterable[_Union[MessageDimension, str]]] = ...) -> None: ...

class GetMessageCountsResponse(_message.Message):
    __slots__ = ("counts", "undecodable", "max_content_topics")
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    UNDECODABLE_FIELD_NUMBER: _ClassVar[int]
    MAX_CONTENT_TOPICS_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.RepeatedCompositeFieldContainer[MessageCount]
    undecodable: _containers.RepeatedCompositeFieldContainer[UndecodableCount]
    max_content_topics: int
    def __init__(self, counts: _Optional[_Iterable[_Union[MessageCount, _Mapping]]] = ..., undecodable: _Optional[_Iterable[_Union[UndecodableCount, _Mapping]]] = ..., max_content_topics: _Optional[int] = ...) -> None: ...

class MessageCount(_message.Message):
    __slots__ = ("pubsub_topic", "content_topic", "messages", "bytes", "first_seen", "last_seen", "other", "window_messages", "window_bytes", "messages_per_minute", "application", "content_topics")
    PUBSUB_TOPIC_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TOPIC_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    OTHER_FIELD_NUMBER: _ClassVar[int]
    WINDOW_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    WINDOW_BYTES_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TOPICS_FIELD_NUMBER: _ClassVar[int]
    pubsub_topic: str
    content_topic: str
    messages: int
    bytes: int
    first_seen: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    other: bool
    window_messages: int
    window_bytes: int
    messages_per_minute: float
    application: str
    content_topics: int
    def __init__(self, pubsub_topic: _Optional[str] = ..., content_topic: _Optional[str] = ..., messages: _Optional[int] = ..., bytes: _Optional[int] = ..., first_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., other: _Optional[bool] = ..., window_messages: _Optional[int] = ..., window_bytes: _Optional[int] = ..., messages_per_minute: _Optional[float] = ..., application: _Optional[str] = ..., content_topics: _Optional[int] = ...) -> None: ...

class UndecodableCount(_message.Message):
    __slots__ = ("pubsub_topic", "messages", "bytes", "first_seen", "last_seen")
    PUBSUB_TOPIC_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    pubsub_topic: str
    messages: int
    bytes: int
    first_seen: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    def __init__(self, pubsub_topic: _Optional[str] = ..., messages: _Optional[int] = ..., bytes: _Optional[int] = ..., first_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetNetworkStatsRequest(_message.Message):
    __slots__ = ("crawl_id",)
    CRAWL_ID_FIELD_NUMBER: _ClassVar[int]
    crawl_id: str
    def __init__(self, crawl_id: _Optional[str] = ...) -> None: ...

class GetNetworkStatsResponse(_message.Message):
    __slots__ = ("peers", "by_capability", "by_cluster", "by_shard", "by_record_kind", "by_fork_digest", "without_capabilities", "by_protocol", "by_agent", "by_error_class", "by_metadata_shard", "reachable", "unreachable", "not_dialed", "by_pubsub_topic", "by_country", "by_source", "by_chain_id", "by_software_version", "by_p2p_version", "by_block_version", "reachable_by_chain_id")
    class ByCapabilityEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByClusterEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: int
        def __init__(self, key: _Optional[int] = ..., value: _Optional[int] = ...) -> None: ...
    class ByRecordKindEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByForkDigestEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByProtocolEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByAgentEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByErrorClassEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByCountryEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class BySourceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByChainIdEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class BySoftwareVersionEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByP2pVersionEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: int
        def __init__(self, key: _Optional[int] = ..., value: _Optional[int] = ...) -> None: ...
    class ByBlockVersionEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: int
        def __init__(self, key: _Optional[int] = ..., value: _Optional[int] = ...) -> None: ...
    class ReachableByChainIdEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    PEERS_FIELD_NUMBER: _ClassVar[int]
    BY_CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    BY_CLUSTER_FIELD_NUMBER: _ClassVar[int]
    BY_SHARD_FIELD_NUMBER: _ClassVar[int]
    BY_RECORD_KIND_FIELD_NUMBER: _ClassVar[int]
    BY_FORK_DIGEST_FIELD_NUMBER: _ClassVar[int]
    WITHOUT_CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    BY_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    BY_AGENT_FIELD_NUMBER: _ClassVar[int]
    BY_ERROR_CLASS_FIELD_NUMBER: _ClassVar[int]
    BY_METADATA_SHARD_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    UNREACHABLE_FIELD_NUMBER: _ClassVar[int]
    NOT_DIALED_FIELD_NUMBER: _ClassVar[int]
    BY_PUBSUB_TOPIC_FIELD_NUMBER: _ClassVar[int]
    BY_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    BY_SOURCE_FIELD_NUMBER: _ClassVar[int]
    BY_CHAIN_ID_FIELD_NUMBER: _ClassVar[int]
    BY_SOFTWARE_VERSION_FIELD_NUMBER: _ClassVar[int]
    BY_P2P_VERSION_FIELD_NUMBER: _ClassVar[int]
    BY_BLOCK_VERSION_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_BY_CHAIN_ID_FIELD_NUMBER: _ClassVar[int]
    peers: int
    by_capability: _containers.ScalarMap[str, int]
    by_cluster: _containers.ScalarMap[int, int]
    by_shard: _containers.RepeatedCompositeFieldContainer[ShardCount]
    by_record_kind: _containers.ScalarMap[str, int]
    by_fork_digest: _containers.ScalarMap[str, int]
    without_capabilities: int
    by_protocol: _containers.ScalarMap[str, int]
    by_agent: _containers.ScalarMap[str, int]
    by_error_class: _containers.ScalarMap[str, int]
    by_metadata_shard: _containers.RepeatedCompositeFieldContainer[ShardCount]
    reachable: int
    unreachable: int
    not_dialed: int
    by_pubsub_topic: _containers.RepeatedCompositeFieldContainer[PubsubTopicSummary]
    by_country: _containers.ScalarMap[str, int]
    by_source: _containers.ScalarMap[str, int]
    by_chain_id: _containers.ScalarMap[str, int]
    by_software_version: _containers.ScalarMap[str, int]
    by_p2p_version: _containers.ScalarMap[int, int]
    by_block_version: _containers.ScalarMap[int, int]
    reachable_by_chain_id: _containers.ScalarMap[str, int]
    def __init__(self, peers: _Optional[int] = ..., by_capability: _Optional[_Mapping[str, int]] = ..., by_cluster: _Optional[_Mapping[int, int]] = ..., by_shard: _Optional[_Iterable[_Union[ShardCount, _Mapping]]] = ..., by_record_kind: _Optional[_Mapping[str, int]] = ..., by_fork_digest: _Optional[_Mapping[str, int]] = ..., without_capabilities: _Optional[int] = ..., by_protocol: _Optional[_Mapping[str, int]] = ..., by_agent: _Optional[_Mapping[str, int]] = ..., by_error_class: _Optional[_Mapping[str, int]] = ..., by_metadata_shard: _Optional[_Iterable[_Union[ShardCount, _Mapping]]] = ..., reachable: _Optional[int] = ..., unreachable: _Optional[int] = ..., not_dialed: _Optional[int] = ..., by_pubsub_topic: _Optional[_Iterable[_Union[PubsubTopicSummary, _Mapping]]] = ..., by_country: _Optional[_Mapping[str, int]] = ..., by_source: _Optional[_Mapping[str, int]] = ..., by_chain_id: _Optional[_Mapping[str, int]] = ..., by_software_version: _Optional[_Mapping[str, int]] = ..., by_p2p_version: _Optional[_Mapping[int, int]] = ..., by_block_version: _Optional[_Mapping[int, int]] = ..., reachable_by_chain_id: _Optional[_Mapping[str, int]] = ...) -> None: ...

class PubsubTopicSummary(_message.Message):
    __slots__ = ("pubsub_topic", "messages", "bytes", "content_topics", "other_messages", "undecodable")
    PUBSUB_TOPIC_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TOPICS_FIELD_NUMBER: _ClassVar[int]
    OTHER_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    UNDECODABLE_FIELD_NUMBER: _ClassVar[int]
    pubsub_topic: str
    messages: int
    bytes: int
    content_topics: int
    other_messages: int
    undecodable: int
    def __init__(self, pubsub_topic: _Optional[str] = ..., messages: _Optional[int] = ..., bytes: _Optional[int] = ..., content_topics: _Optional[int] = ..., other_messages: _Optional[int] = ..., undecodable: _Optional[int] = ...) -> None: ...

class ShardCount(_message.Message):
    __slots__ = ("cluster_id", "shard", "peers")
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    cluster_id: int
    shard: int
    peers: int
    def __init__(self, cluster_id: _Optional[int] = ..., shard: _Optional[int] = ..., peers: _Optional[int] = ...) -> None: ...

class GetSinkStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSinkStatusResponse(_message.Message):
    __slots__ = ("enabled", "vantage", "database", "connected", "lag_events", "lag_feed", "pending_changes", "caught_up", "exported_event_sequence", "last_event_sequence", "rows", "batches", "errors", "last_error", "last_error_time", "last_export_time", "backfills")
    class RowsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    VANTAGE_FIELD_NUMBER: _ClassVar[int]
    DATABASE_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    LAG_EVENTS_FIELD_NUMBER: _ClassVar[int]
    LAG_FEED_FIELD_NUMBER: _ClassVar[int]
    PENDING_CHANGES_FIELD_NUMBER: _ClassVar[int]
    CAUGHT_UP_FIELD_NUMBER: _ClassVar[int]
    EXPORTED_EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_EXPORT_TIME_FIELD_NUMBER: _ClassVar[int]
    BACKFILLS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    vantage: str
    database: str
    connected: bool
    lag_events: int
    lag_feed: int
    pending_changes: int
    caught_up: bool
    exported_event_sequence: int
    last_event_sequence: int
    rows: _containers.ScalarMap[str, int]
    batches: int
    errors: int
    last_error: str
    last_error_time: _timestamp_pb2.Timestamp
    last_export_time: _timestamp_pb2.Timestamp
    backfills: int
    def __init__(self, enabled: _Optional[bool] = ..., vantage: _Optional[str] = ..., database: _Optional[str] = ..., connected: _Optional[bool] = ..., lag_events: _Optional[int] = ..., lag_feed: _Optional[int] = ..., pending_changes: _Optional[int] = ..., caught_up: _Optional[bool] = ..., exported_event_sequence: _Optional[int] = ..., last_event_sequence: _Optional[int] = ..., rows: _Optional[_Mapping[str, int]] = ..., batches: _Optional[int] = ..., errors: _Optional[int] = ..., last_error: _Optional[str] = ..., last_error_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_export_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., backfills: _Optional[int] = ...) -> None: ...

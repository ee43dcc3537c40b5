import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from './google/protobuf/Duration';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { CometBftNodeInfo as _peerscope_v1_CometBftNodeInfo, CometBftNodeInfo__Output as _peerscope_v1_CometBftNodeInfo__Output } from './peerscope/v1/CometBftNodeInfo';
import type { CometBftProfile as _peerscope_v1_CometBftProfile, CometBftProfile__Output as _peerscope_v1_CometBftProfile__Output } from './peerscope/v1/CometBftProfile';
import type { CometBftSeedOptions as _peerscope_v1_CometBftSeedOptions, CometBftSeedOptions__Output as _peerscope_v1_CometBftSeedOptions__Output } from './peerscope/v1/CometBftSeedOptions';
import type { Crawl as _peerscope_v1_Crawl, Crawl__Output as _peerscope_v1_Crawl__Output } from './peerscope/v1/Crawl';
import type { CrawlLimits as _peerscope_v1_CrawlLimits, CrawlLimits__Output as _peerscope_v1_CrawlLimits__Output } from './peerscope/v1/CrawlLimits';
import type { CrawlProgress as _peerscope_v1_CrawlProgress, CrawlProgress__Output as _peerscope_v1_CrawlProgress__Output } from './peerscope/v1/CrawlProgress';
import type { CrawlSettings as _peerscope_v1_CrawlSettings, CrawlSettings__Output as _peerscope_v1_CrawlSettings__Output } from './peerscope/v1/CrawlSettings';
import type { CrawlerClient as _peerscope_v1_CrawlerClient, CrawlerDefinition as _peerscope_v1_CrawlerDefinition } from './peerscope/v1/Crawler';
import type { CustomProfile as _peerscope_v1_CustomProfile, CustomProfile__Output as _peerscope_v1_CustomProfile__Output } from './peerscope/v1/CustomProfile';
import type { EnrFields as _peerscope_v1_EnrFields, EnrFields__Output as _peerscope_v1_EnrFields__Output } from './peerscope/v1/EnrFields';
import type { Eth2Info as _peerscope_v1_Eth2Info, Eth2Info__Output as _peerscope_v1_Eth2Info__Output } from './peerscope/v1/Eth2Info';
import type { EthereumProfile as _peerscope_v1_EthereumProfile, EthereumProfile__Output as _peerscope_v1_EthereumProfile__Output } from './peerscope/v1/EthereumProfile';
import type { GeoInfo as _peerscope_v1_GeoInfo, GeoInfo__Output as _peerscope_v1_GeoInfo__Output } from './peerscope/v1/GeoInfo';
import type { GetCrawlRequest as _peerscope_v1_GetCrawlRequest, GetCrawlRequest__Output as _peerscope_v1_GetCrawlRequest__Output } from './peerscope/v1/GetCrawlRequest';
import type { GetCrawlResponse as _peerscope_v1_GetCrawlResponse, GetCrawlResponse__Output as _peerscope_v1_GetCrawlResponse__Output } from './peerscope/v1/GetCrawlResponse';
import type { GetMessageCountsRequest as _peerscope_v1_GetMessageCountsRequest, GetMessageCountsRequest__Output as _peerscope_v1_GetMessageCountsRequest__Output } from './peerscope/v1/GetMessageCountsRequest';
import type { GetMessageCountsResponse as _peerscope_v1_GetMessageCountsResponse, GetMessageCountsResponse__Output as _peerscope_v1_GetMessageCountsResponse__Output } from './peerscope/v1/GetMessageCountsResponse';
import type { GetNetworkStatsRequest as _peerscope_v1_GetNetworkStatsRequest, GetNetworkStatsRequest__Output as _peerscope_v1_GetNetworkStatsRequest__Output } from './peerscope/v1/GetNetworkStatsRequest';
import type { GetNetworkStatsResponse as _peerscope_v1_GetNetworkStatsResponse, GetNetworkStatsResponse__Output as _peerscope_v1_GetNetworkStatsResponse__Output } from './peerscope/v1/GetNetworkStatsResponse';
import type { GetPeerRequest as _peerscope_v1_GetPeerRequest, GetPeerRequest__Output as _peerscope_v1_GetPeerRequest__Output } from './peerscope/v1/GetPeerRequest';
import type { GetPeerResponse as _peerscope_v1_GetPeerResponse, GetPeerResponse__Output as _peerscope_v1_GetPeerResponse__Output } from './peerscope/v1/GetPeerResponse';
import type { GetSinkStatusRequest as _peerscope_v1_GetSinkStatusRequest, GetSinkStatusRequest__Output as _peerscope_v1_GetSinkStatusRequest__Output } from './peerscope/v1/GetSinkStatusRequest';
import type { GetSinkStatusResponse as _peerscope_v1_GetSinkStatusResponse, GetSinkStatusResponse__Output as _peerscope_v1_GetSinkStatusResponse__Output } from './peerscope/v1/GetSinkStatusResponse';
import type { ListCrawlsRequest as _peerscope_v1_ListCrawlsRequest, ListCrawlsRequest__Output as _peerscope_v1_ListCrawlsRequest__Output } from './peerscope/v1/ListCrawlsRequest';
import type { ListCrawlsResponse as _peerscope_v1_ListCrawlsResponse, ListCrawlsResponse__Output as _peerscope_v1_ListCrawlsResponse__Output } from './peerscope/v1/ListCrawlsResponse';
import type { ListPeersRequest as _peerscope_v1_ListPeersRequest, ListPeersRequest__Output as _peerscope_v1_ListPeersRequest__Output } from './peerscope/v1/ListPeersRequest';
import type { ListPeersResponse as _peerscope_v1_ListPeersResponse, ListPeersResponse__Output as _peerscope_v1_ListPeersResponse__Output } from './peerscope/v1/ListPeersResponse';
import type { MessageCount as _peerscope_v1_MessageCount, MessageCount__Output as _peerscope_v1_MessageCount__Output } from './peerscope/v1/MessageCount';
import type { NetworkProfile as _peerscope_v1_NetworkProfile, NetworkProfile__Output as _peerscope_v1_NetworkProfile__Output } from './peerscope/v1/NetworkProfile';
import type { Peer as _peerscope_v1_Peer, Peer__Output as _peerscope_v1_Peer__Output } from './peerscope/v1/Peer';
import type { PeerEvent as _peerscope_v1_PeerEvent, PeerEvent__Output as _peerscope_v1_PeerEvent__Output } from './peerscope/v1/PeerEvent';
import type { PeerExchangeOptions as _peerscope_v1_PeerExchangeOptions, PeerExchangeOptions__Output as _peerscope_v1_PeerExchangeOptions__Output } from './peerscope/v1/PeerExchangeOptions';
import type { PeerSource as _peerscope_v1_PeerSource, PeerSource__Output as _peerscope_v1_PeerSource__Output } from './peerscope/v1/PeerSource';
import type { PubsubTopicSummary as _peerscope_v1_PubsubTopicSummary, PubsubTopicSummary__Output as _peerscope_v1_PubsubTopicSummary__Output } from './peerscope/v1/PubsubTopicSummary';
import type { SeedOptions as _peerscope_v1_SeedOptions, SeedOptions__Output as _peerscope_v1_SeedOptions__Output } from './peerscope/v1/SeedOptions';
import type { ShardCount as _peerscope_v1_ShardCount, ShardCount__Output as _peerscope_v1_ShardCount__Output } from './peerscope/v1/ShardCount';
import type { ShardInfo as _peerscope_v1_ShardInfo, ShardInfo__Output as _peerscope_v1_ShardInfo__Output } from './peerscope/v1/ShardInfo';
import type { StartCrawlRequest as _peerscope_v1_StartCrawlRequest, StartCrawlRequest__Output as _peerscope_v1_StartCrawlRequest__Output } from './peerscope/v1/StartCrawlRequest';
import type { StartCrawlResponse as _peerscope_v1_StartCrawlResponse, StartCrawlResponse__Output as _peerscope_v1_StartCrawlResponse__Output } from './peerscope/v1/StartCrawlResponse';
import type { StopCrawlRequest as _peerscope_v1_StopCrawlRequest, StopCrawlRequest__Output as _peerscope_v1_StopCrawlRequest__Output } from './peerscope/v1/StopCrawlRequest';
import type { StopCrawlResponse as _peerscope_v1_StopCrawlResponse, StopCrawlResponse__Output as _peerscope_v1_StopCrawlResponse__Output } from './peerscope/v1/StopCrawlResponse';
import type { StreamPeerEventsRequest as _peerscope_v1_StreamPeerEventsRequest, StreamPeerEventsRequest__Output as _peerscope_v1_StreamPeerEventsRequest__Output } from './peerscope/v1/StreamPeerEventsRequest';
import type { StreamPeerEventsResponse as _peerscope_v1_StreamPeerEventsResponse, StreamPeerEventsResponse__Output as _peerscope_v1_StreamPeerEventsResponse__Output } from './peerscope/v1/StreamPeerEventsResponse';
import type { UndecodableCount as _peerscope_v1_UndecodableCount, UndecodableCount__Output as _peerscope_v1_UndecodableCount__Output } from './peerscope/v1/UndecodableCount';
import type { WakuProfile as _peerscope_v1_WakuProfile, WakuProfile__Output as _peerscope_v1_WakuProfile__Output } from './peerscope/v1/WakuProfile';
import type { WatchCrawlRequest as _peerscope_v1_WatchCrawlRequest, WatchCrawlRequest__Output as _peerscope_v1_WatchCrawlRequest__Output } from './peerscope/v1/WatchCrawlRequest';
import type { WatchCrawlResponse as _peerscope_v1_WatchCrawlResponse, WatchCrawlResponse__Output as _peerscope_v1_WatchCrawlResponse__Output } from './peerscope/v1/WatchCrawlResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      Duration: MessageTypeDefinition<_google_protobuf_Duration, _google_protobuf_Duration__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
  peerscope: {
    v1: {
      CometBftNodeInfo: MessageTypeDefinition<_peerscope_v1_CometBftNodeInfo, _peerscope_v1_CometBftNodeInfo__Output>
      CometBftProfile: MessageTypeDefinition<_peerscope_v1_CometBftProfile, _peerscope_v1_CometBftProfile__Output>
      CometBftSeedOptions: MessageTypeDefinition<_peerscope_v1_CometBftSeedOptions, _peerscope_v1_CometBftSeedOptions__Output>
      Crawl: MessageTypeDefinition<_peerscope_v1_Crawl, _peerscope_v1_Crawl__Output>
      CrawlLimits: MessageTypeDefinition<_peerscope_v1_CrawlLimits, _peerscope_v1_CrawlLimits__Output>
      CrawlMode: EnumTypeDefinition
      CrawlProgress: MessageTypeDefinition<_peerscope_v1_CrawlProgress, _peerscope_v1_CrawlProgress__Output>
      CrawlSettings: MessageTypeDefinition<_peerscope_v1_CrawlSettings, _peerscope_v1_CrawlSettings__Output>
      CrawlState: EnumTypeDefinition
      /**
       * The crawler control plane.
       */
      Crawler: SubtypeConstructor<typeof grpc.Client, _peerscope_v1_CrawlerClient> & { service: _peerscope_v1_CrawlerDefinition }
      CustomProfile: MessageTypeDefinition<_peerscope_v1_CustomProfile, _peerscope_v1_CustomProfile__Output>
      EnrFields: MessageTypeDefinition<_peerscope_v1_EnrFields, _peerscope_v1_EnrFields__Output>
      Eth2Info: MessageTypeDefinition<_peerscope_v1_Eth2Info, _peerscope_v1_Eth2Info__Output>
      EthereumProfile: MessageTypeDefinition<_peerscope_v1_EthereumProfile, _peerscope_v1_EthereumProfile__Output>
      GeoInfo: MessageTypeDefinition<_peerscope_v1_GeoInfo, _peerscope_v1_GeoInfo__Output>
      GetCrawlRequest: MessageTypeDefinition<_peerscope_v1_GetCrawlRequest, _peerscope_v1_GetCrawlRequest__Output>
      GetCrawlResponse: MessageTypeDefinition<_peerscope_v1_GetCrawlResponse, _peerscope_v1_GetCrawlResponse__Output>
      GetMessageCountsRequest: MessageTypeDefinition<_peerscope_v1_GetMessageCountsRequest, _peerscope_v1_GetMessageCountsRequest__Output>
      GetMessageCountsResponse: MessageTypeDefinition<_peerscope_v1_GetMessageCountsResponse, _peerscope_v1_GetMessageCountsResponse__Output>
      GetNetworkStatsRequest: MessageTypeDefinition<_peerscope_v1_GetNetworkStatsRequest, _peerscope_v1_GetNetworkStatsRequest__Output>
      GetNetworkStatsResponse: MessageTypeDefinition<_peerscope_v1_GetNetworkStatsResponse, _peerscope_v1_GetNetworkStatsResponse__Output>
      GetPeerRequest: MessageTypeDefinition<_peerscope_v1_GetPeerRequest, _peerscope_v1_GetPeerRequest__Output>
      GetPeerResponse: MessageTypeDefinition<_peerscope_v1_GetPeerResponse, _peerscope_v1_GetPeerResponse__Output>
      GetSinkStatusRequest: MessageTypeDefinition<_peerscope_v1_GetSinkStatusRequest, _peerscope_v1_GetSinkStatusRequest__Output>
      GetSinkStatusResponse: MessageTypeDefinition<_peerscope_v1_GetSinkStatusResponse, _peerscope_v1_GetSinkStatusResponse__Output>
      ListCrawlsRequest: MessageTypeDefinition<_peerscope_v1_ListCrawlsRequest, _peerscope_v1_ListCrawlsRequest__Output>
      ListCrawlsResponse: MessageTypeDefinition<_peerscope_v1_ListCrawlsResponse, _peerscope_v1_ListCrawlsResponse__Output>
      ListPeersRequest: MessageTypeDefinition<_peerscope_v1_ListPeersRequest, _peerscope_v1_ListPeersRequest__Output>
      ListPeersResponse: MessageTypeDefinition<_peerscope_v1_ListPeersResponse, _peerscope_v1_ListPeersResponse__Output>
      MessageCount: MessageTypeDefinition<_peerscope_v1_MessageCount, _peerscope_v1_MessageCount__Output>
      MessageDimension: EnumTypeDefinition
      NetworkProfile: MessageTypeDefinition<_peerscope_v1_NetworkProfile, _peerscope_v1_NetworkProfile__Output>
      Peer: MessageTypeDefinition<_peerscope_v1_Peer, _peerscope_v1_Peer__Output>
      PeerEvent: MessageTypeDefinition<_peerscope_v1_PeerEvent, _peerscope_v1_PeerEvent__Output>
      PeerEventKind: EnumTypeDefinition
      PeerExchangeOptions: MessageTypeDefinition<_peerscope_v1_PeerExchangeOptions, _peerscope_v1_PeerExchangeOptions__Output>
      PeerSource: MessageTypeDefinition<_peerscope_v1_PeerSource, _peerscope_v1_PeerSource__Output>
      PubsubTopicSummary: MessageTypeDefinition<_peerscope_v1_PubsubTopicSummary, _peerscope_v1_PubsubTopicSummary__Output>
      SeedOptions: MessageTypeDefinition<_peerscope_v1_SeedOptions, _peerscope_v1_SeedOptions__Output>
      ShardCount: MessageTypeDefinition<_peerscope_v1_ShardCount, _peerscope_v1_ShardCount__Output>
      ShardEncoding: EnumTypeDefinition
      ShardInfo: MessageTypeDefinition<_peerscope_v1_ShardInfo, _peerscope_v1_ShardInfo__Output>
      StartCrawlRequest: MessageTypeDefinition<_peerscope_v1_StartCrawlRequest, _peerscope_v1_StartCrawlRequest__Output>
      StartCrawlResponse: MessageTypeDefinition<_peerscope_v1_StartCrawlResponse, _peerscope_v1_StartCrawlResponse__Output>
      StopCrawlRequest: MessageTypeDefinition<_peerscope_v1_StopCrawlRequest, _peerscope_v1_StopCrawlRequest__Output>
      StopCrawlResponse: MessageTypeDefinition<_peerscope_v1_StopCrawlResponse, _peerscope_v1_StopCrawlResponse__Output>
      StreamPeerEventsRequest: MessageTypeDefinition<_peerscope_v1_StreamPeerEventsRequest, _peerscope_v1_StreamPeerEventsRequest__Output>
      StreamPeerEventsResponse: MessageTypeDefinition<_peerscope_v1_StreamPeerEventsResponse, _peerscope_v1_StreamPeerEventsResponse__Output>
      UndecodableCount: MessageTypeDefinition<_peerscope_v1_UndecodableCount, _peerscope_v1_UndecodableCount__Output>
      WakuProfile: MessageTypeDefinition<_peerscope_v1_WakuProfile, _peerscope_v1_WakuProfile__Output>
      WatchCrawlRequest: MessageTypeDefinition<_peerscope_v1_WatchCrawlRequest, _peerscope_v1_WatchCrawlRequest__Output>
      WatchCrawlResponse: MessageTypeDefinition<_peerscope_v1_WatchCrawlResponse, _peerscope_v1_WatchCrawlResponse__Output>
    }
  }
}


//! `peerscope.v1.Crawler`: convert the request, call the engine or store, convert the reply.

use std::pin::Pin;
use std::time::Duration;

use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::api::convert::{self, PeerKey};
use crate::api::status::{engine_error_for, resume_error, RequestError};
use crate::api::wire::EncodedEvent;
use crate::engine::Engine;
use crate::model::messages::OTHER_CONTENT_TOPIC;
use crate::proto::{pb, server};
use crate::store::{EventSubscription, Store};

/// Messages buffered per stream between the reader task and the client.
///
/// Small on purpose: the reader waits on a slow client, never the engine, and the store is
/// the buffer.
const STREAM_BUFFER: usize = 64;

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The service implementation.
pub struct CrawlerApi {
    engine: Engine,
    shutdown: CancellationToken,
    sink: Option<crate::sink::Sink>,
}

impl CrawlerApi {
    /// A service over `engine`; streams end when `shutdown` is cancelled.
    pub fn new(engine: Engine, shutdown: CancellationToken) -> CrawlerApi {
        CrawlerApi {
            engine,
            shutdown,
            sink: None,
        }
    }

    /// The same service reporting `sink` in `GetSinkStatus`.
    pub fn with_sink(self, sink: Option<crate::sink::Sink>) -> CrawlerApi {
        CrawlerApi { sink, ..self }
    }

    fn store(&self) -> &Store {
        self.engine.store()
    }
}

#[tonic::async_trait]
impl server::crawler_server::Crawler for CrawlerApi {
    async fn start_crawl(
        &self,
        request: Request<pb::StartCrawlRequest>,
    ) -> Result<Response<pb::StartCrawlResponse>, Status> {
        let spec = convert::crawl_spec(request.into_inner())?;
        let crawl = self.engine.start_crawl(spec).await?;
        Ok(Response::new(pb::StartCrawlResponse {
            crawl: Some((&crawl).into()),
        }))
    }

    async fn stop_crawl(
        &self,
        request: Request<pb::StopCrawlRequest>,
    ) -> Result<Response<pb::StopCrawlResponse>, Status> {
        let id = convert::crawl_id("crawl_id", &request.get_ref().crawl_id)?;
        let crawl = self
            .engine
            .stop_crawl(id)
            .await
            .map_err(|e| engine_error_for("crawl_id", e))?;
        Ok(Response::new(pb::StopCrawlResponse {
            crawl: Some((&crawl).into()),
        }))
    }

    async fn get_crawl(
        &self,
        request: Request<pb::GetCrawlRequest>,
    ) -> Result<Response<pb::GetCrawlResponse>, Status> {
        let id = convert::crawl_id("crawl_id", &request.get_ref().crawl_id)?;
        let crawl = self
            .engine
            .get_crawl(id)
            .map_err(|e| engine_error_for("crawl_id", e))?;
        Ok(Response::new(pb::GetCrawlResponse {
            crawl: Some((&crawl).into()),
        }))
    }

    async fn list_crawls(
        &self,
        request: Request<pb::ListCrawlsRequest>,
    ) -> Result<Response<pb::ListCrawlsResponse>, Status> {
        let req = request.into_inner();
        let limit = convert::page_size(req.page_size, 50, 1000);
        let before = convert::crawl_page_token(&req.page_token)?;
        let state = convert::state_filter(req.state)?;
        let mut crawls = self.engine.list_crawls(before, state, limit + 1)?;
        let next_page_token = if crawls.len() > limit {
            crawls.truncate(limit);
            crawls.last().map(|c| c.id.to_string()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListCrawlsResponse {
            crawls: crawls.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    type WatchCrawlStream = BoxStream<pb::WatchCrawlResponse>;

    async fn watch_crawl(
        &self,
        request: Request<pb::WatchCrawlRequest>,
    ) -> Result<Response<Self::WatchCrawlStream>, Status> {
        let req = request.into_inner();
        let id = convert::crawl_id("crawl_id", &req.crawl_id)?;
        let interval = match &req.interval {
            Some(d) => convert::duration_in(
                "interval",
                d,
                Duration::from_millis(50),
                Duration::from_secs(3600),
            )?,
            None => Duration::from_secs(1),
        };
        // Fail fast on an unknown crawl.
        self.engine
            .get_crawl(id)
            .map_err(|e| engine_error_for("crawl_id", e))?;
        let (tx, rx) = mpsc::channel(4);
        let engine = self.engine.clone();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tx.closed() => return,
                    _ = tick.tick() => {}
                }
                let reply = engine.get_crawl(id).map_err(Status::from).map(|c| {
                    let done = c.state.is_final();
                    (
                        pb::WatchCrawlResponse {
                            crawl: Some((&c).into()),
                        },
                        done,
                    )
                });
                match reply {
                    Ok((msg, done)) => {
                        if tx.send(Ok(msg)).await.is_err() || done {
                            return;
                        }
                    }
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    type StreamPeerEventsStream = BoxStream<EncodedEvent>;

    async fn stream_peer_events(
        &self,
        request: Request<pb::StreamPeerEventsRequest>,
    ) -> Result<Response<Self::StreamPeerEventsStream>, Status> {
        let req = request.into_inner();
        let filter = convert::event_filter(&req)?;
        if let Some(id) = filter.crawl_id {
            self.engine
                .get_crawl(id)
                .map_err(|e| engine_error_for("crawl_id", e))?;
        }
        let events = self
            .store()
            .subscribe_events(req.after_sequence, filter)
            .map_err(resume_error)?;
        let shutdown = self.shutdown.clone();
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        // Counted in `peerscope_event_subscribers` until the sending task ends (the client
        // went away, the log failed, or the server is shutting down).
        let subscriber = self.engine.metrics().subscriber();
        tokio::spawn(async move {
            let _subscriber = subscriber;
            send_events(events, tx, shutdown).await
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_peer(
        &self,
        request: Request<pb::GetPeerRequest>,
    ) -> Result<Response<pb::GetPeerResponse>, Status> {
        let (peer, field, what) = match convert::peer_key(request.into_inner())? {
            PeerKey::Node(n) => (
                self.store().get_peer(&n)?,
                "node_id",
                format!("node id {}", hex::encode(n)),
            ),
            PeerKey::Peer(p) => (
                self.store().get_peer_by_peer_id(&p)?,
                "peer_id",
                format!("peer id {p}"),
            ),
        };
        let peer =
            peer.ok_or_else(|| RequestError::not_found(field, format!("no peer with {what}")))?;
        Ok(Response::new(pb::GetPeerResponse {
            peer: Some((&peer).into()),
        }))
    }

    async fn list_peers(
        &self,
        request: Request<pb::ListPeersRequest>,
    ) -> Result<Response<pb::ListPeersResponse>, Status> {
        let req = request.into_inner();
        let (filter, after) = convert::peer_query(&req)?;
        if let Some(id) = filter.crawl_id {
            self.engine
                .get_crawl(id)
                .map_err(|e| engine_error_for("crawl_id", e))?;
        }
        let limit = convert::page_size(req.page_size, 100, 1000);
        let store = self.store().clone();
        let (peers, more) =
            tokio::task::spawn_blocking(move || store.list_peers(&filter, after, limit))
                .await
                .map_err(|e| Status::internal(format!("list task failed: {e}")))??;
        let next_page_token = match (more, peers.last()) {
            (true, Some(last)) => hex::encode(last.enr.node_id),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListPeersResponse {
            peers: peers.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn get_message_counts(
        &self,
        request: Request<pb::GetMessageCountsRequest>,
    ) -> Result<Response<pb::GetMessageCountsResponse>, Status> {
        let req = request.into_inner();
        convert::count_filters(&req)?;
        let grouping = crate::api::rollup::Grouping::from_request(&req.group_by)?;
        let (from, to) = convert::count_window(&req)?;
        let cap = self.engine.flushed_counter()?.max_content_topics();
        let store = self.store().clone();
        let reply = tokio::task::spawn_blocking(move || {
            let mut counts = Vec::new();
            for row in store.message_counts(&req.pubsub_topic, &req.content_topic_prefix)? {
                let (wm, wb) =
                    store.message_window(&row.pubsub_topic, &row.content_topic, from, to)?;
                counts.push(pb::MessageCount {
                    other: row.content_topic == OTHER_CONTENT_TOPIC,
                    first_seen: Some(convert::to_pb_time(row.first_seen)),
                    last_seen: Some(convert::to_pb_time(row.last_seen)),
                    window_messages: wm,
                    window_bytes: wb,
                    messages_per_minute: wm as f64 / (to - from).max(1) as f64,
                    pubsub_topic: row.pubsub_topic,
                    content_topic: row.content_topic,
                    messages: row.messages,
                    bytes: row.bytes,
                    ..Default::default()
                });
            }
            let counts = crate::api::rollup::group(counts, grouping);
            let undecodable = store
                .undecodable_counts(&req.pubsub_topic)?
                .into_iter()
                .map(|u| pb::UndecodableCount {
                    first_seen: Some(convert::to_pb_time(u.first_seen)),
                    last_seen: Some(convert::to_pb_time(u.last_seen)),
                    pubsub_topic: u.pubsub_topic,
                    messages: u.messages,
                    bytes: u.bytes,
                })
                .collect();
            Ok::<_, crate::store::StoreError>(pb::GetMessageCountsResponse {
                counts,
                undecodable,
                max_content_topics: cap.min(u32::MAX as usize) as u32,
            })
        })
        .await
        .map_err(|e| Status::internal(format!("counts task failed: {e}")))??;
        Ok(Response::new(reply))
    }

    async fn get_sink_status(
        &self,
        _request: Request<pb::GetSinkStatusRequest>,
    ) -> Result<Response<pb::GetSinkStatusResponse>, Status> {
        let Some(sink) = self.sink.clone() else {
            return Ok(Response::new(pb::GetSinkStatusResponse::default()));
        };
        // Counting the lags walks the store's export trees.
        let s = tokio::task::spawn_blocking(move || sink.status())
            .await
            .map_err(|e| Status::internal(format!("sink status task failed: {e}")))?;
        Ok(Response::new(convert::sink_status(&s)))
    }

    async fn get_network_stats(
        &self,
        request: Request<pb::GetNetworkStatsRequest>,
    ) -> Result<Response<pb::GetNetworkStatsResponse>, Status> {
        let crawl = convert::optional_crawl_id("crawl_id", &request.get_ref().crawl_id)?;
        if let Some(id) = crawl {
            self.engine
                .get_crawl(id)
                .map_err(|e| engine_error_for("crawl_id", e))?;
        }
        self.engine.flushed_counter()?;
        let store = self.store().clone();
        let (stats, topics) = tokio::task::spawn_blocking(move || {
            let stats = store.network_stats(crawl)?;
            let mut topics: std::collections::BTreeMap<String, pb::PubsubTopicSummary> =
                Default::default();
            for row in store.message_counts("", "")? {
                let t = topics.entry(row.pubsub_topic.clone()).or_insert_with(|| {
                    pb::PubsubTopicSummary {
                        pubsub_topic: row.pubsub_topic.clone(),
                        ..Default::default()
                    }
                });
                t.messages += row.messages;
                t.bytes += row.bytes;
                if row.content_topic == OTHER_CONTENT_TOPIC {
                    t.other_messages += row.messages;
                } else {
                    t.content_topics += 1;
                }
            }
            for u in store.undecodable_counts("")? {
                let t = topics.entry(u.pubsub_topic.clone()).or_insert_with(|| {
                    pb::PubsubTopicSummary {
                        pubsub_topic: u.pubsub_topic.clone(),
                        ..Default::default()
                    }
                });
                t.undecodable += u.messages;
            }
            Ok::<_, crate::store::StoreError>((stats, topics))
        })
        .await
        .map_err(|e| Status::internal(format!("stats task failed: {e}")))??;
        let mut reply: pb::GetNetworkStatsResponse = (&stats).into();
        reply.by_pubsub_topic = topics.into_values().collect();
        Ok(Response::new(reply))
    }
}

/// Sends what `events` yields: stored events first, then new ones as they are appended.
/// The store is the buffer, so a slow client only delays itself. Each event is encoded once
/// however many subscribers send it (see [`EncodedEvent::shared`]).
async fn send_events(
    mut events: EventSubscription,
    tx: mpsc::Sender<Result<EncodedEvent, Status>>,
    shutdown: CancellationToken,
) {
    loop {
        let batch = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tx.closed() => return,
            batch = events.next_batch() => batch,
        };
        let batch = match batch {
            Some(Ok(batch)) => batch,
            Some(Err(e)) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
            None => return,
        };
        for event in batch {
            let msg = EncodedEvent::shared(&event);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                sent = tx.send(Ok(msg)) => if sent.is_err() { return },
            }
        }
    }
}

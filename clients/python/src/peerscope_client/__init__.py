"""Python client of the peerscope ``peerscope.v1`` gRPC API.

The generated stubs are the complete API::

    import grpc
    from peerscope_client import pb, pb_grpc

    stub = pb_grpc.CrawlerStub(grpc.insecure_channel("127.0.0.1:50051"))
    crawl = stub.GetCrawl(pb.GetCrawlRequest(crawl_id="1"), timeout=5).crawl

:class:`Client` is a small convenience layer over them (start and wait for a crawl, page
through peers, follow events with resume). Every field is documented in
``proto/peerscope/v1/peerscope.proto``.
"""

from .client import Client, DEFAULT_ADDRESS, normalize_address
from .v1 import peerscope_pb2 as pb
from .v1 import peerscope_pb2_grpc as pb_grpc

__all__ = ["Client", "DEFAULT_ADDRESS", "normalize_address", "pb", "pb_grpc"]
__version__ = "0.1.0"

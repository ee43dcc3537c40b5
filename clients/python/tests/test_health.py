from grpc_health.v1 import health_pb2, health_pb2_grpc


def test_health_serving(client):
    health = health_pb2_grpc.HealthStub(client.channel)
    resp = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


def test_health_of_crawler_service(client):
    health = health_pb2_grpc.HealthStub(client.channel)
    resp = health.Check(health_pb2.HealthCheckRequest(service="peerscope.v1.Crawler"), timeout=10)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING

/**
 * A client of the standard gRPC health service (`grpc.health.v1.Health/Check`), which the
 * server serves next to peerscope.v1. Its two messages are described here in protobuf.js
 * JSON form, so no extra .proto or package is needed.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const HEALTH_JSON = {
  nested: {
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: { fields: { service: { type: "string", id: 1 } } },
                HealthCheckResponse: {
                  fields: { status: { type: "ServingStatus", id: 1 } },
                  nested: {
                    ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } },
                  },
                },
                Health: {
                  methods: { Check: { requestType: "HealthCheckRequest", responseType: "HealthCheckResponse" } },
                },
              },
            },
          },
        },
      },
    },
  },
};

export type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

interface HealthClient extends grpc.Client {
  Check(
    req: { service: string },
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: { status: ServingStatus }) => void,
  ): grpc.ClientUnaryCall;
}

type HealthCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ClientOptions) => HealthClient;

let ctor: HealthCtor | undefined;

function healthCtor(): HealthCtor {
  if (!ctor) {
    const def = protoLoader.fromJSON(HEALTH_JSON as unknown as Parameters<typeof protoLoader.fromJSON>[0], {
      enums: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as any;
    ctor = pkg.grpc.health.v1.Health as HealthCtor;
  }
  return ctor;
}

/** `Check` on the channel of `client`: resolves with the serving status of `service` ("" = the server). */
export function checkHealth(client: grpc.Client, service: string, deadline: grpc.Deadline): Promise<ServingStatus> {
  const Health = healthCtor();
  // Shares the channel (and its connection) of the given client.
  const health = new Health("unused", grpc.credentials.createInsecure(), { channelOverride: client.getChannel() });
  return new Promise((resolve, reject) =>
    health.Check({ service }, { deadline }, (err, res) => (err ? reject(err) : resolve(res!.status))),
  );
}

/**
 * Loads peerscope.v1 at run time with @grpc/proto-loader, from the copy of the .proto that
 * `npm run generate` keeps in proto/ next to the package, with the options the types in
 * src/gen were generated for.
 */
import fs from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType } from "./gen/peerscope";

/**
 * How messages look in JavaScript; must match the flags in generate.sh:
 * 64-bit integers are decimal strings (uint64 values such as Eth2Info.next_fork_epoch =
 * 2^64-1 do not fit a number), enums are their names, omitted fields read as their
 * defaults, and each oneof gets a virtual field naming the member that is set.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The directory holding `peerscope/v1/peerscope.proto` (proto/ at the package root). */
export function protoDir(): string {
  // From src/ (ts sources) or dist/src/ (compiled).
  for (const up of ["..", "../.."]) {
    const dir = path.resolve(__dirname, up, "proto");
    if (fs.existsSync(path.join(dir, "peerscope/v1/peerscope.proto"))) return dir;
  }
  throw new Error(`peerscope/v1/peerscope.proto not found above ${__dirname}`);
}

let loaded: ProtoGrpcType | undefined;

/** The loaded package: `load().peerscope.v1.Crawler` is the client constructor. */
export function load(): ProtoGrpcType {
  if (!loaded) {
    const def = protoLoader.loadSync("peerscope/v1/peerscope.proto", { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
    loaded = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  }
  return loaded;
}

/**
 * Runs real `peerscope testnet` and `peerscope serve` processes on 127.0.0.1 for the tests.
 * Every wait is bounded; every process is stopped (SIGTERM, then SIGKILL) by the hooks that
 * started it, and killed at the latest when the test process exits.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { createInterface } from "node:readline";

export function peerscopeBin(): string {
  const bin = process.env.PEERSCOPE_BIN;
  if (!bin) {
    throw new Error(
      "set PEERSCOPE_BIN to a peerscope binary (e.g. target/release/peerscope), or run the tests through clients/run-tests.sh",
    );
  }
  fs.accessSync(bin, fs.constants.X_OK);
  return bin;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

// Where util-linux's setpriv exists, children also get SIGTERM if this process dies.
const setpriv = (() => {
  const r = spawnSync("sh", ["-c", "command -v setpriv"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
})();

export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private readonly lines: string[] = [];
  private notify: (() => void) | undefined;
  private done = false;

  constructor(
    readonly args: string[],
    readonly logPath: string,
  ) {
    const log = fs.openSync(logPath, "w");
    const [cmd, ...rest] = setpriv ? [setpriv, "--pdeathsig", "TERM", ...args] : args;
    this.child = spawn(cmd, rest, { stdio: ["ignore", "pipe", log] });
    fs.closeSync(log);
    live.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => {
        live.delete(this.child);
        resolve(code ?? (signal ? -1 : null));
      }),
    );
    createInterface({ input: this.child.stdout! })
      .on("line", (line) => {
        this.lines.push(line);
        this.notify?.();
      })
      .on("close", () => {
        this.done = true;
        this.notify?.();
      });
  }

  /** The first stdout line matching `pred`; rejects after `timeoutMs` or if the process ends first. */
  async waitForLine(pred: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let i = 0;
    for (;;) {
      for (; i < this.lines.length; i++) if (pred(this.lines[i])) return this.lines[i];
      if (this.done) throw new Error(`${this.args.slice(0, 2).join(" ")} exited first; ${this.logTail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.args.slice(0, 2).join(" ")}: no expected line in ${timeoutMs} ms; ${this.logTail()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.notify = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.notify = undefined;
    }
  }

  logTail(n = 15): string {
    try {
      return `last log lines of ${this.logPath}:\n` + fs.readFileSync(this.logPath, "utf8").split("\n").slice(-n).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** SIGTERM, SIGKILL after `timeoutMs`; resolves with the exit code. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const t = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
      try {
        return await this.exited;
      } finally {
        clearTimeout(t);
      }
    }
    return this.exited;
  }
}

export interface TestnetNode {
  index: number;
  node_id: string;
  peer_id: string;
  enr: string;
  udp: string;
  tcp: number;
  up: boolean;
  agent: string;
  protocols: string[];
  waku2: number | null;
  capabilities: string[];
  cluster_id: number | null;
  shards: number[];
}

export class Testnet {
  private constructor(
    readonly proc: Proc,
    readonly bootstrapEnrs: string[],
    readonly nodes: TestnetNode[],
  ) {}

  static async start(nodes: number, dir: string, timeoutMs = 60_000): Promise<Testnet> {
    // --duration is a safety net only: the after() hook stops it long before.
    const proc = new Proc(
      [peerscopeBin(), "testnet", "--nodes", String(nodes), "--json", "--duration", "1200"],
      `${dir}/testnet-${nodes}.log`,
    );
    try {
      const info = JSON.parse(await proc.waitForLine((l) => l.startsWith("{"), timeoutMs));
      return new Testnet(proc, info.bootstrap_enrs, info.nodes);
    } catch (e) {
      await proc.stop();
      throw e;
    }
  }

  byNodeId(): Map<string, TestnetNode> {
    return new Map(this.nodes.map((n) => [n.node_id, n]));
  }

  stop(): Promise<number | null> {
    return this.proc.stop();
  }
}

let serveHelp: string | undefined;

/** Whether `peerscope serve` of this binary has `flag` (newer servers add listeners, e.g.
 * --http-addr, whose fixed default port would clash between two test servers). */
function serveSupports(flag: string): boolean {
  serveHelp ??= spawnSync(peerscopeBin(), ["serve", "--help"], { encoding: "utf8", timeout: 30_000 }).stdout ?? "";
  return serveHelp.includes(flag);
}

export class Server {
  static readonly PREFIX = "grpc listening on ";

  private constructor(
    readonly proc: Proc,
    readonly address: string,
  ) {}

  static async start(dataDir: string, logPath: string, port = 0, timeoutMs = 30_000): Promise<Server> {
    const proc = new Proc(
      [
        peerscopeBin(),
        "serve",
        "--data-dir",
        dataDir,
        "--grpc-addr",
        `127.0.0.1:${port}`,
        "--discv5-addr",
        "127.0.0.1:0",
        "--shutdown-grace-secs",
        "5",
        ...(serveSupports("--http-addr") ? ["--http-addr", "127.0.0.1:0"] : []),
      ],
      logPath,
    );
    try {
      const line = await proc.waitForLine((l) => l.startsWith(Server.PREFIX), timeoutMs);
      return new Server(proc, line.slice(Server.PREFIX.length).trim());
    } catch (e) {
      await proc.stop();
      throw e;
    }
  }

  stop(): Promise<number | null> {
    return this.proc.stop();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

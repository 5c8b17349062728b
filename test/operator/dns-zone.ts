/**
 * An in-process DNS server (dns2, UDP and TCP on one kernel-chosen port on 127.0.0.1) whose
 * answers come from a callback: the end-to-end test serves the headless Service's records from
 * the fake API server's objects, as CoreDNS serves them from the real one.
 */
import { createSocket } from "node:dgram";
import dns2 from "dns2";
import type { DnsServer, Resource } from "dns2";

const { Packet } = dns2;

/** One answer record (SRV or A). */
export type ZoneRecord = Partial<Resource> & { type: number };

/** SRV and A record types. */
export const RecordType = { SRV: Packet.TYPE.SRV, A: Packet.TYPE.A } as const;

/** A running zone; close it with `close()`. */
export interface DnsZone {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts a DNS server answering from `lookup` (undefined = NXDOMAIN). */
export async function startZone(
  lookup: (name: string) => readonly ZoneRecord[] | undefined,
): Promise<DnsZone> {
  const server: DnsServer = dns2.createServer({
    udp: true,
    tcp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      if (q !== undefined) {
        const known = lookup(q.name.toLowerCase());
        if (known === undefined) response.header.rcode = 3; // NXDOMAIN
        for (const r of known ?? []) {
          if (r.type !== q.type) continue;
          response.answers.push(
            Packet.createResourceFromQuestion(q, { class: Packet.CLASS.IN, ttl: 1, ...r }),
          );
        }
      }
      void send(response);
    },
  });
  // One port for UDP and TCP (c-ares falls back to TCP for large answers).
  const probe = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.bind(0, "127.0.0.1", resolve);
  });
  const port = probe.address().port;
  probe.close();
  await server.listen({
    udp: { port, address: "127.0.0.1" },
    tcp: { port, address: "127.0.0.1" },
  });
  return { port, close: () => server.close() };
}

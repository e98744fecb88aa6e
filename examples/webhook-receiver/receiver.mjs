import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

// The library takes the secret without its prefix.
const webhook = new Webhook(process.env.CAREBRIDGE_WEBHOOK_SECRET.replace(/^whsec_/, ""));

function handle(messageId, message) {
  // offer, offer_withdrawn or data_erasure_requested: queue it; skip a messageId seen before.
  console.log(messageId, message.type);
}

createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8"); // the raw body, as received
    let message;
    try {
      message = webhook.verify(body, req.headers);
    } catch {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(204).end();
    handle(req.headers["webhook-id"], message);
  });
}).listen(Number(process.env.PORT ?? 8090));

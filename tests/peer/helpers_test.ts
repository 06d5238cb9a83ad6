import assert from "node:assert/strict";
import { type Message, MessageType } from "../../src/wire/messages.ts";
import { receiveOfType } from "./helpers.ts";

const ping: Message = { type: MessageType.PING, requestId: 1 } as Message;

Deno.test("receive_of_type_gives_up_after_max_messages_of_other_types", async () => {
  let n = 0;
  const endless = { receive: () => Promise.resolve((n++, ping)) };
  await assert.rejects(receiveOfType(endless, MessageType.ERROR, 50, 5000), /within 50 messages/);
  assert.equal(n, 50);
});

Deno.test("receive_of_type_gives_up_on_a_silent_channel_after_its_timeout", async () => {
  const silent = { receive: () => new Promise<Message | null>(() => {}) };
  await assert.rejects(receiveOfType(silent, MessageType.ERROR, 10, 50), /50 ms/);
});

Deno.test("receive_of_type_fails_when_the_stream_ends_first", async () => {
  const ended = { receive: () => Promise.resolve(null) };
  await assert.rejects(receiveOfType(ended, MessageType.ERROR), /stream ended/);
});

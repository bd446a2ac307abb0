// The agent's browser phone: joins the agent's own conference once ("nailed up") so answered customers are
// dropped in without ringing. Needs /static/vendor/twilio/twilio.min.js (Twilio.Device) loaded first.
// Usage: const phone = await AgentPhone.start({onState: s => ...}); ... phone.stop();
(function (global) {
  "use strict";

  async function fetchToken(url) {
    const r = await fetch(url, {credentials: "same-origin"});
    if (!r.ok) throw new Error(`token request failed: ${r.status}`);
    return (await r.json()).token;
  }

  async function start(opts) {
    const options = Object.assign({tokenUrl: "/twilio/token", onState: () => {}}, opts || {});
    if (!global.Twilio || !global.Twilio.Device) throw new Error("the Twilio Voice SDK is not loaded");
    if (!global.Twilio.Device.isSupported) throw new Error("this browser cannot place WebRTC calls");
    const device = new global.Twilio.Device(await fetchToken(options.tokenUrl), {closeProtection: true});
    device.on("tokenWillExpire", async () => device.updateToken(await fetchToken(options.tokenUrl)));
    device.on("error", (err) => options.onState("error", err));
    await device.register();
    // The TwiML App's voice URL (/twilio/agent/join) puts this leg into conference agent-<id>.
    const call = await device.connect();
    call.on("accept", () => options.onState("connected"));
    call.on("disconnect", () => options.onState("disconnected"));
    call.on("error", (err) => options.onState("error", err));
    options.onState("connecting");
    return {
      device, call,
      mute(on) { call.mute(Boolean(on)); },
      stop() { call.disconnect(); device.destroy(); },
    };
  }

  global.AgentPhone = {start};
})(window);

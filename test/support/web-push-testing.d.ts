// web-push-testing 1.2.2 ships no types: the part test/support/push-service.ts uses to start it in-process.
declare module 'web-push-testing/src/PushApiModel.js' {
  export class PushApiModel {
    /** The prefix of the endpoints it hands out; its server sets it from the port it was given. */
    notifyUrl: string;
  }
}

declare module 'web-push-testing/src/server.js' {
  import type { Server } from 'node:http';
  import type { PushApiModel } from 'web-push-testing/src/PushApiModel.js';

  export default class WebPushTestingServer {
    constructor(model: PushApiModel, port: number);
    /** Routes: /subscribe, /notify/:clientHash, /expire-subscription/:clientHash, /get-notifications. */
    setRequestHandlers(): void;
    readonly _app: { listen(port: number, host: string, ready: () => void): Server };
  }
}

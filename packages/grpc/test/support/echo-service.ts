import { fileURLToPath } from 'node:url';
import {
  type CallOptions,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ClientWritableStream,
  loadPackageDefinition,
  type Metadata,
  type requestCallback,
  type ServiceClientConstructor,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export interface EchoRequest {
  readonly text?: string;
  readonly count?: number;
}

export interface EchoReply {
  readonly text: string;
  readonly servedBy: string;
}

/** The generated client of `weft.test.Echo` (test/fixtures/echo.proto), typed. */
export interface EchoClient extends Client {
  Get(
    request: EchoRequest,
    metadata: Metadata,
    options: CallOptions,
    callback: requestCallback<EchoReply>,
  ): ClientUnaryCall;
  Post(
    request: EchoRequest,
    metadata: Metadata,
    options: CallOptions,
    callback: requestCallback<EchoReply>,
  ): ClientUnaryCall;
  List(request: EchoRequest, metadata: Metadata, options: CallOptions): ClientReadableStream<EchoReply>;
  Collect(
    metadata: Metadata,
    options: CallOptions,
    callback: requestCallback<EchoReply>,
  ): ClientWritableStream<EchoRequest>;
  Chat(metadata: Metadata, options: CallOptions): ClientDuplexStream<EchoRequest, EchoReply>;
}

const definition = loadSync(fileURLToPath(new URL('../fixtures/echo.proto', import.meta.url)), {
  keepCase: false,
  defaults: true,
});

const loaded = loadPackageDefinition(definition) as unknown as {
  weft: { test: { Echo: ServiceClientConstructor } };
};

/** The client class, as an application gets it from proto-loader. */
export const EchoClientConstructor = loaded.weft.test.Echo as unknown as {
  new (...args: ConstructorParameters<ServiceClientConstructor>): EchoClient;
  readonly service: ServiceDefinition;
};

export const echoService: ServiceDefinition = loaded.weft.test.Echo.service;

export const Methods = {
  get: '/weft.test.Echo/Get',
  post: '/weft.test.Echo/Post',
  list: '/weft.test.Echo/List',
  collect: '/weft.test.Echo/Collect',
  chat: '/weft.test.Echo/Chat',
} as const;

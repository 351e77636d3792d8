// The public API of @weft/grpc. Everything not exported here is internal and may change.
export {};

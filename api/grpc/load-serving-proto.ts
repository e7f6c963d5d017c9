/**
 * Loads Feast's ServingService protos (api/grpc/protos, re-declared from feast-dev/feast) with
 * @grpc/proto-loader: snake_case fields kept, int64 as JS numbers, enums as names, oneofs named.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';

export const PROTO_DIR = join(import.meta.dirname, 'protos');

/** `feast.serving.ServingService`'s client constructor and service definition. */
export function loadServingService(): grpc.ServiceClientConstructor {
  const def = protoLoader.loadSync('feast/serving/ServingService.proto', {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    feast: { serving: { ServingService: grpc.ServiceClientConstructor } };
  };
  return pkg.feast.serving.ServingService;
}

export declare const INSTALL_HINT: string;
export declare function hasRedisServer(): boolean;
export declare function freePort(): Promise<number>;
export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}
export declare function startRedisServer(options?: {
  port?: number;
  appendonly?: boolean;
  dir?: string;
  extraArgs?: string[];
}): Promise<RedisServer>;

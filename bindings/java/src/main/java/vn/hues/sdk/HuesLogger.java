package vn.hues.sdk;

import vn.hues.sdk.internal.LogLevel;

/**
 * Receives the SDK's log lines, from any thread (implementations must be thread-safe). Lines
 * never contain credentials: API keys and tokens are redacted before a line is built.
 */
@FunctionalInterface
public interface HuesLogger {
  void log(LogLevel level, String message);
}

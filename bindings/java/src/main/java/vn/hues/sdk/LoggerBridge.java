package vn.hues.sdk;

import vn.hues.sdk.internal.ClientOptions;
import vn.hues.sdk.internal.HuesNativeJNI;
import vn.hues.sdk.internal.LogLevel;
import vn.hues.sdk.internal.Logger;

/** Adapts a {@link HuesLogger} to the SWIG director the C++ core calls. */
final class LoggerBridge extends Logger {
  private final HuesLogger target;

  private LoggerBridge(HuesLogger target) {
    this.target = target;
  }

  /**
   * Installs target as options' logger. The C++ side then owns the bridge: its director holds
   * a strong reference for as long as any C++ copy of the options lives, and the Java-held
   * shared_ptr is dropped, so no reference cycle keeps either side alive.
   */
  static void install(ClientOptions options, HuesLogger target) {
    LoggerBridge bridge = new LoggerBridge(target);
    options.setLogger(bridge);
    long holder = getCPtr(bridge);
    bridge.swigReleaseOwnership();  // director -> Java: strong ref; Java no longer frees holder
    HuesNativeJNI.delete_Logger(holder);  // drop the Java-held shared_ptr (options keep theirs)
  }

  @Override
  public void log(LogLevel level, String message) {
    try {
      target.log(level, message);
    } catch (Throwable ignored) {
      // A failing logger must not break the call that logs (nor leak into C++).
    }
  }
}

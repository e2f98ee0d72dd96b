package vn.hues.sdk.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads a native library of the SDK once. Order: the path in system property {@code
 * <name>.library} (e.g. {@code -Dhues_jni.library=/path/libhues_jni.so}), the copy packed
 * in the jar under {@code /native/<os>-<arch>/}, then {@code java.library.path}.
 */
public final class NativeLoader {
  private NativeLoader() {}

  public static synchronized void load(String library) {
    String explicit = System.getProperty(library + ".library");
    if (explicit != null && !explicit.isEmpty()) {
      System.load(Path.of(explicit).toAbsolutePath().toString());
      return;
    }
    if (loadFromJar(library)) return;
    try {
      System.loadLibrary(library);
    } catch (UnsatisfiedLinkError e) {
      throw new UnsatisfiedLinkError("Hue-S SDK: no " + resourcePath(library) + " in the jar and no "
          + System.mapLibraryName(library) + " on java.library.path (" + e.getMessage() + ")");
    }
  }

  /** The platform directory inside the jar, e.g. {@code linux-x86_64}. */
  public static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (os.startsWith("linux")) os = "linux";
    else if (os.startsWith("mac")) os = "darwin";
    else if (os.startsWith("windows")) os = "windows";
    if (arch.equals("amd64") || arch.equals("x64")) arch = "x86_64";
    else if (arch.equals("arm64")) arch = "aarch64";
    return os + "-" + arch;
  }

  private static String resourcePath(String library) {
    return "/native/" + platform() + "/" + System.mapLibraryName(library);
  }

  private static boolean loadFromJar(String library) {
    String resource = resourcePath(library);
    try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
      if (in == null) return false;
      Path tmp = Files.createTempFile(library + "-", "-" + System.mapLibraryName(library));
      try {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        System.load(tmp.toAbsolutePath().toString());
      } finally {
        // Once mapped the file is no longer needed (POSIX); elsewhere delete it at exit.
        try {
          Files.delete(tmp);
        } catch (IOException e) {
          tmp.toFile().deleteOnExit();
        }
      }
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("Hue-S SDK: cannot extract " + resource, e);
    }
  }
}

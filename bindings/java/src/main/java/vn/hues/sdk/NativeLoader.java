package vn.hues.sdk;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads the native library {@code hues_jni} once per class loader. Order: the path in system
 * property {@code hues.native.library}, the copy packed in the jar under
 * {@code /native/<os>-<arch>/}, then {@code java.library.path}.
 */
public final class NativeLoader {
  private static final String LIBRARY = "hues_jni";
  private static volatile boolean loaded;

  private NativeLoader() {}

  /** Loads the library if it is not loaded yet; safe to call from any thread. */
  public static void load() {
    if (loaded) return;
    synchronized (NativeLoader.class) {
      if (loaded) return;
      String explicit = System.getProperty("hues.native.library");
      if (explicit != null && !explicit.isEmpty()) {
        System.load(Path.of(explicit).toAbsolutePath().toString());
      } else if (!loadFromJar()) {
        try {
          System.loadLibrary(LIBRARY);
        } catch (UnsatisfiedLinkError e) {
          throw new UnsatisfiedLinkError("Hue-S SDK: no " + resourcePath() + " in the jar and "
              + "no " + System.mapLibraryName(LIBRARY) + " on java.library.path ("
              + e.getMessage() + ")");
        }
      }
      loaded = true;
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

  private static String resourcePath() {
    return "/native/" + platform() + "/" + System.mapLibraryName(LIBRARY);
  }

  private static boolean loadFromJar() {
    try (InputStream in = NativeLoader.class.getResourceAsStream(resourcePath())) {
      if (in == null) return false;
      Path tmp = Files.createTempFile("hues_jni-", "-" + System.mapLibraryName(LIBRARY));
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
      throw new UncheckedIOException("Hue-S SDK: cannot extract " + resourcePath(), e);
    }
  }
}

package vn.hues.sdk;

import java.util.Iterator;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Every item of a paged list; pages are fetched as iteration reaches them. Each
 * {@link #iterator()} starts again from the first page.
 */
public final class PagedIterable<T> implements Iterable<T> {
  private final Supplier<Iterator<T>> iterators;

  PagedIterable(Supplier<Iterator<T>> iterators) {
    this.iterators = iterators;
  }

  @Override
  public Iterator<T> iterator() {
    return iterators.get();
  }

  /** A sequential, lazily paging stream. */
  public Stream<T> stream() {
    return StreamSupport.stream(
        Spliterators.spliteratorUnknownSize(iterator(), Spliterator.ORDERED | Spliterator.NONNULL),
        false);
  }
}

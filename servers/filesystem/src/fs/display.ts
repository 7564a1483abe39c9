const UNSAFE_IN_LISTING = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

/**
 * A file name as shown in a listing. Names are chosen by whoever wrote the files, so a name with a
 * line break or an invisible character is quoted: it cannot fake extra lines or hide its text.
 */
export function displayName(name: string): string {
  return UNSAFE_IN_LISTING.test(name) ? JSON.stringify(name) : name;
}

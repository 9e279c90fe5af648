//! `#[derive(ServerEvents)]`: an enum whose variants are the events a server emits.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::ctxt::Ctxt;

/// One variant: the event's name, its fields (names for TypeScript, types).
struct Event {
    variant: syn::Ident,
    name: LitStr,
    fields: Vec<(Option<syn::Ident>, syn::Type)>,
    named: bool,
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => {
            cx.push(err);
            return cx.check().unwrap_err().to_compile_error();
        }
    };
    let (krate, typescript) = container_options(&cx, &input);
    let events = match &input.data {
        Data::Enum(data) => data
            .variants
            .iter()
            .filter_map(|v| variant(&cx, v))
            .collect::<Vec<_>>(),
        _ => {
            cx.error(
                input.ident.span(),
                "#[derive(ServerEvents)] goes on an enum: one variant per event, its fields the event's arguments",
            );
            Vec::new()
        }
    };
    for (i, event) in events.iter().enumerate() {
        if let Some(first) = events[..i]
            .iter()
            .find(|e| e.name.value() == event.name.value())
        {
            let mut err = syn::Error::new(
                event.name.span(),
                format!("duplicate server event \"{}\"", event.name.value()),
            );
            err.combine(syn::Error::new(
                first.name.span(),
                "note: first declared here",
            ));
            cx.push(err);
        }
    }
    if let Err(err) = cx.check() {
        return err.to_compile_error();
    }
    let p = quote!(#krate::__private);
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let name_arms = events.iter().map(|e| {
        let variant = &e.variant;
        let name = &e.name;
        let pat = if e.named {
            quote!(Self::#variant { .. })
        } else if e.fields.is_empty() {
            quote!(Self::#variant)
        } else {
            quote!(Self::#variant(..))
        };
        quote!(#pat => #name,)
    });
    let args_arms = events.iter().map(|e| {
        let variant = &e.variant;
        let vars: Vec<_> = (0..e.fields.len())
            .map(|i| format_ident!("__field{}", i))
            .collect();
        let pat = if e.named {
            let names = e.fields.iter().map(|(n, _)| n);
            quote!(Self::#variant { #(#names: #vars),* })
        } else if e.fields.is_empty() {
            quote!(Self::#variant)
        } else {
            quote!(Self::#variant(#(#vars),*))
        };
        if vars.is_empty() {
            // An empty tuple, not `()`: only the type `()` at the top means "no argument",
            // and here the top is the event.
            return quote! {
                #pat => #p::serde::ser::SerializeTuple::end(
                    #p::serde::Serializer::serialize_tuple(serializer, 0)?,
                ),
            };
        }
        // Always a tuple: `(x,)` is one argument even when `x` is itself a tuple.
        quote!(#pat => #p::serde::Serialize::serialize(&(#(#vars,)*), serializer),)
    });
    let arms_or_never = if events.is_empty() {
        quote!(_ => match *self {})
    } else {
        TokenStream::new()
    };
    let describe = typescript.then(|| {
        let entries = events.iter().map(|e| {
            let name = &e.name;
            let tys = e.fields.iter().map(|(_, t)| t);
            let names = e.fields.iter().enumerate().map(|(i, (n, _))| {
                n.as_ref()
                    .map_or_else(|| format!("arg{i}"), |n| n.to_string())
            });
            quote!((#name, #p::typescript::EventTypes::emitted::<(#(#tys,)*)>(&[#(#names),*])))
        });
        quote! {
            impl #impl_generics #p::typescript::ServerEventTypes for #ident #ty_generics #where_clause {
                fn server_event_types() -> #p::Vec<(&'static str, #p::typescript::EventTypes)> {
                    <[_]>::into_vec(#p::Box::new([#(#entries),*]))
                }
            }
        }
    });
    quote! {
        const _: () = {
            impl #impl_generics #p::ServerEvents for #ident #ty_generics #where_clause {
                fn event_name(&self) -> &'static str {
                    match self { #(#name_arms)* #arms_or_never }
                }

                fn serialize_args<S: #p::serde::Serializer>(
                    &self,
                    serializer: S,
                ) -> #p::Result<S::Ok, S::Error> {
                    match self { #(#args_arms)* #arms_or_never }
                }
            }
            #describe
        };
    }
}

/// `#[server_events(typescript, crate = "..")]`.
fn container_options(cx: &Ctxt, input: &DeriveInput) -> (syn::Path, bool) {
    let mut krate: Option<syn::Path> = None;
    let mut typescript = false;
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("server_events"))
    {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("typescript") {
                typescript = true;
                Ok(())
            } else if meta.path.is_ident("crate") {
                let value: LitStr = meta.value()?.parse()?;
                krate = Some(value.parse()?);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown #[server_events] option: the options are `typescript` and \
                     `crate = \"path::to::socketio_core\"`",
                ))
            }
        });
        if let Err(err) = result {
            cx.push(err);
        }
    }
    (
        krate.unwrap_or_else(|| syn::parse_quote!(::socketio_core)),
        typescript,
    )
}

fn variant(cx: &Ctxt, v: &syn::Variant) -> Option<Event> {
    let mut name = None;
    for attr in v.attrs.iter().filter(|a| a.path().is_ident("event")) {
        match attr.parse_args::<LitStr>() {
            Ok(lit) if name.is_none() => name = Some(lit),
            Ok(lit) => cx.error(lit.span(), "a variant is one event: one #[event(\"name\")]"),
            Err(_) => cx.error(
                attr.span(),
                "#[event] takes the event's name: #[event(\"message\")]",
            ),
        }
    }
    let name = name.unwrap_or_else(|| LitStr::new(&v.ident.to_string(), v.ident.span()));
    if crate::namespace::RESERVED.contains(&name.value().as_str()) {
        cx.error(
            name.span(),
            format!(
                "\"{}\" is a reserved event name: socket.io clients treat it as a lifecycle event",
                name.value()
            ),
        );
        return None;
    }
    let named = matches!(v.fields, Fields::Named(_));
    let fields = v
        .fields
        .iter()
        .map(|f| (f.ident.clone(), f.ty.clone()))
        .collect();
    Some(Event {
        variant: v.ident.clone(),
        name,
        fields,
        named,
    })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// The derive names only `<crate>::__private` (and the primitive slice), like `#[namespace]`.
    #[test]
    fn generated_code_names_only_the_private_table() {
        let item = quote! {
            #[server_events(typescript, crate = "my::reexport")]
            enum Events {
                #[event("a")]
                A(u8, String),
                B { x: f64 },
                C,
            }
        };
        let out = super::expand(item).to_string();
        assert!(
            out.contains("my :: reexport :: __private :: ServerEvents"),
            "{out}"
        );
        assert!(out.contains("ServerEventTypes"), "{out}");
        assert!(!out.contains("socketio_core"), "{out}");
        assert!(!out.contains("std ::"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
        assert!(
            out.contains("\"B\""),
            "the variant's name by default: {out}"
        );
    }
}

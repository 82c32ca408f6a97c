/// What a walk over a CDR message meets, in wire order: the one decoding
/// walk of ``CompiledMessageSchema`` reports to a visitor, and what is made
/// of it is the visitor's: a value tree (``MessageValueBuilder``), JSON text
/// written as it comes (``CDRJSONWriter``), or nothing but the checks
/// (``CDRValidator``).
///
/// A message's fields come between `beginMessage` and `endMessage`, each
/// announced by `beginField`; an array's elements between `beginArray` and
/// `endArray`, its count already checked against the bytes left. Scalars
/// are ``MessageValue`` cases `bool`, `int`, `uint`, `float` and `string`.
protocol CDRVisitor {
    /// Whether the visitor needs the elements of primitive arrays; when
    /// false the walk checks that they are there and skips them.
    static var wantsElements: Bool { get }
    mutating func beginMessage(fieldCount: Int)
    mutating func beginField(_ name: String)
    mutating func endMessage()
    mutating func beginArray(count: Int)
    mutating func endArray()
    mutating func scalar(_ value: MessageValue)
}

/// Checks a message and keeps nothing: what `trace cat --count` needs.
struct CDRValidator: CDRVisitor {
    static var wantsElements: Bool { false }
    func beginMessage(fieldCount: Int) {}
    func beginField(_ name: String) {}
    func endMessage() {}
    func beginArray(count: Int) {}
    func endArray() {}
    func scalar(_ value: MessageValue) {}
}

/// Builds the ``MessageValue`` tree of a message. The containers being
/// filled are kept on stacks (as deep as the schema nests), each appended
/// to in place.
struct MessageValueBuilder: CDRVisitor {
    static var wantsElements: Bool { true }
    /// The fields of each message being filled, innermost last, with the
    /// name of the field whose value comes next.
    private var messages: [(fields: [MessageField], nextName: String)] = []
    /// The elements of each array being filled, innermost last.
    private var arrays: [[MessageValue]] = []
    /// For each container being filled, innermost last: true for a message.
    private var isMessage: [Bool] = []
    /// The top-level value, once complete.
    private(set) var result: MessageValue = .message([])

    mutating func beginMessage(fieldCount: Int) {
        var fields: [MessageField] = []
        fields.reserveCapacity(fieldCount)
        messages.append((fields, ""))
        isMessage.append(true)
    }

    mutating func beginField(_ name: String) {
        messages[messages.count - 1].nextName = name
    }

    mutating func endMessage() {
        isMessage.removeLast()
        add(.message(messages.removeLast().fields))
    }

    mutating func beginArray(count: Int) {
        var elements: [MessageValue] = []
        elements.reserveCapacity(count)
        arrays.append(elements)
        isMessage.append(false)
    }

    mutating func endArray() {
        isMessage.removeLast()
        add(.array(arrays.removeLast()))
    }

    mutating func scalar(_ value: MessageValue) { add(value) }

    private mutating func add(_ value: MessageValue) {
        guard let inMessage = isMessage.last else {
            result = value
            return
        }
        if inMessage {
            let last = messages.count - 1
            messages[last].fields.append(MessageField(name: messages[last].nextName, value: value))
        } else {
            arrays[arrays.count - 1].append(value)
        }
    }
}

/// Writes a message as the JSON of ``MessageValue/jsonText`` while it is
/// walked: objects for messages (fields in schema order), arrays, scalars
/// as ``MessageValue/appendJSON(to:)`` writes them.
struct CDRJSONWriter: CDRVisitor {
    static var wantsElements: Bool { true }
    let output: TextOutput
    /// Whether a value has just ended, so the next one needs a comma.
    private var afterValue = false

    init(output: TextOutput) { self.output = output }

    mutating func beginMessage(fieldCount: Int) { open("{") }

    mutating func beginField(_ name: String) {
        let comma = afterValue
        output.append { text in
            if comma { text += "," }
            MessageValue.appendJSONString(name, to: &text)
            text += ":"
        }
        afterValue = false
    }

    mutating func endMessage() { close("}") }
    mutating func beginArray(count: Int) { open("[") }
    mutating func endArray() { close("]") }

    mutating func scalar(_ value: MessageValue) {
        let comma = afterValue
        output.append { text in
            if comma { text += "," }
            value.appendJSON(to: &text)
        }
        afterValue = true
    }

    private mutating func open(_ bracket: String) {
        let comma = afterValue
        output.append { text in
            if comma { text += "," }
            text += bracket
        }
        afterValue = false
    }

    private mutating func close(_ bracket: String) {
        output.append(bracket)
        afterValue = true
    }
}
